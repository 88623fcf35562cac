use super::*;

// Structure-only fixtures: random base64, not keys.
const BODY: &str = "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\nYx2eqzDV+xeG8kx/sQFV18S5JwIDAQABAkEAiVf7gxIGjdMZ5ZrFTm6Y1ZYjzKe3\n";

#[test]
fn pem_needs_body_and_matching_footer() {
    let key = format!("-----BEGIN RSA PRIVATE KEY-----\n{BODY}-----END RSA PRIVATE KEY-----\n");
    assert_eq!(find_keys(key.as_bytes()), vec![(0, Kind::RsaPrivateKey)]);
    let mismatch = format!("-----BEGIN RSA PRIVATE KEY-----\n{BODY}-----END EC PRIVATE KEY-----\n");
    assert!(find_keys(mismatch.as_bytes()).is_empty());
    let mention = "if line == \"-----BEGIN PRIVATE KEY-----\" { return Some(Kind::Pkcs8) }\n-----END PRIVATE KEY-----";
    assert!(find_keys(mention.as_bytes()).is_empty());
    let placeholder = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg...\n-----END PRIVATE KEY-----\n";
    assert!(find_keys(placeholder.as_bytes()).is_empty());
    let public = format!("-----BEGIN PUBLIC KEY-----\n{BODY}-----END PUBLIC KEY-----\n");
    assert!(find_keys(public.as_bytes()).is_empty());
}

#[test]
fn pem_in_a_json_string_and_with_headers() {
    let json = format!(
        "{{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\"}}",
        BODY.replace('\n', "\\n")
    );
    assert_eq!(
        find_keys(json.as_bytes()),
        vec![(17, Kind::Pkcs8PrivateKey)]
    );
    let legacy = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123ABCD\n\n{BODY}-----END RSA PRIVATE KEY-----"
    );
    assert_eq!(find_keys(legacy.as_bytes()).len(), 1);
}

fn pkcs8(body: &str) -> String {
    format!("-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n")
}

fn found(text: &str) -> Vec<Kind> {
    find_keys(text.as_bytes())
        .into_iter()
        .map(|(_, k)| k)
        .collect()
}

#[test]
fn pem_wrapped_in_source_code_and_config_syntax() {
    let lines: Vec<&str> = BODY.lines().collect();
    let key = pkcs8(BODY);
    let python = format!(
        "KEY = (\"-----BEGIN PRIVATE KEY-----\\n\"\n       \"{}\\n\"\n       \"{}\\n\"\n       \"-----END PRIVATE KEY-----\\n\")\n",
        lines[0], lines[1]
    );
    let js = format!(
        "const k = '-----BEGIN PRIVATE KEY-----\\n' +\n  '{}\\n' +\n  '{}\\n' +\n  '-----END PRIVATE KEY-----';\n",
        lines[0], lines[1]
    );
    let commented: String = key.lines().map(|l| format!("# {l}\n")).collect();
    let c_comment: String = key.lines().map(|l| format!(" * {l}\n")).collect();
    let quoted: String = key.lines().map(|l| format!("> {l}\n")).collect();
    let yaml_list: String = key.lines().map(|l| format!("  - \"{l}\"\n")).collect();
    let json_in_json = key.replace('\n', "\\\\n");
    let escaped_slashes = key.replace('\n', "\\n").replace('/', "\\/");
    let continued = key.replace('\n', "\\n\\\n");
    let xml = key.replace('\n', "&#10;");
    for (what, text) in [
        ("python", python),
        ("js", js),
        ("commented", commented),
        ("c comment", c_comment),
        ("quoted", quoted),
        ("yaml list", yaml_list),
        ("json in json", json_in_json),
        ("escaped slashes", escaped_slashes),
        ("continued", continued),
        ("xml", xml),
    ] {
        assert_eq!(found(&text), vec![Kind::Pkcs8PrivateKey], "{what}:\n{text}");
    }
    // Still only structure: a header and footer around code are not a key.
    let code = "let pem = \"-----BEGIN PRIVATE KEY-----\\n\" + encodeBase64(der) + \"\\n-----END PRIVATE KEY-----\";";
    assert!(found(code).is_empty());
}

#[test]
fn base64_encoded_pem_is_decoded() {
    use base64::Engine as _;
    let b64 = |t: &[u8]| base64::engine::general_purpose::STANDARD.encode(t);
    let key = pkcs8(BODY);
    let k8s = format!(
        "data:\n  tls.key: {}\n  tls.crt: abc\n",
        b64(key.as_bytes())
    );
    assert_eq!(found(&k8s), vec![Kind::Pkcs8PrivateKey]);
    let encoded = b64(key.as_bytes());
    let wrapped: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| format!("    {}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(
        found(&format!("key: |\n{wrapped}")),
        vec![Kind::Pkcs8PrivateKey]
    );
    let public = pkcs8(BODY).replace("PRIVATE", "PUBLIC");
    assert!(found(&b64(public.as_bytes())).is_empty());
}

fn bech32_encode(hrp: &str, data: &[u8]) -> String {
    let hrp_bytes = hrp.as_bytes();
    let expanded: Vec<u8> = hrp_bytes
        .iter()
        .map(|b| b >> 5)
        .chain(std::iter::once(0))
        .chain(hrp_bytes.iter().map(|b| b & 31))
        .chain(data.iter().copied())
        .chain([0; 6])
        .collect();
    let polymod = bech32_polymod(expanded.into_iter()) ^ 1;
    let checksum = (0..6).map(|i| ((polymod >> (5 * (5 - i))) & 31) as u8);
    let chars: String = data
        .iter()
        .copied()
        .chain(checksum)
        .map(|v| BECH32_CHARSET[v as usize] as char)
        .collect();
    format!("{hrp}1{chars}").to_uppercase()
}

#[test]
fn plugin_identities_followed_by_punctuation_and_indented_putty_keys() {
    let identity = bech32_encode("age-plugin-yubikey-", &[7; 40]);
    assert!(bech32_valid(identity.as_bytes()));
    for text in [
        format!("My identity is {identity}."),
        format!("{identity}-backup"),
        format!("id={identity}_old"),
    ] {
        assert_eq!(found(&text), vec![Kind::AgePluginIdentity], "{text}");
    }
    // Assembled here so that this source file itself holds no complete key (the project's
    // own tree scans clean).
    let mac = "0123456789abcdef".repeat(4);
    let putty = format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 2\nAAAA\nBBBB\nPrivate-Lines: 1\nCCCC\nPrivate-MAC: {mac}\n"
    );
    let indented: String = putty.lines().map(|l| format!("    {l}\n")).collect();
    let json = format!("{{\"ppk\": \"{}\"}}", putty.replace('\n', "\\n"));
    for text in [putty.clone(), indented, json] {
        assert_eq!(found(&text), vec![Kind::PuttyPrivateKey], "{text}");
    }
    let mention = "if line.starts_with(\"PuTTY-User-Key-File-\") { read(\"Private-Lines: \"); mac(\"Private-MAC: \") }";
    assert!(found(mention).is_empty());
}

#[test]
fn bech32_checksums() {
    // BIP-173 test vectors.
    assert!(bech32_valid(b"A12UEL5L"));
    assert!(bech32_valid(
        b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
    ));
    assert!(!bech32_valid(
        b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"
    ));
    assert!(!bech32_valid(b"A12uEL5L"));
    let placeholder = format!("AGE-SECRET-KEY-1{}", "Q".repeat(58));
    assert!(find_keys(placeholder.as_bytes()).is_empty());
    assert!(
        find_keys(b"# public key: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
            .is_empty()
    );
}
