"""The statement parser and verifier (docs/format.md, "integrity/statement, version 2"): the
canonical form, strict Ed25519, the key-change chain and owner endorsements. Statements are
written by tests/vaultkit.py from the spec; every refused variant is re-signed, so the refusal
is about its form, not its signature."""

from __future__ import annotations

import base64
import os
from typing import Callable, List

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519

from agent_vault import IntegrityError
from agent_vault._statement import has_conflict_markers, parse_and_verify, parse_shard

from vaultkit import b64, endorsement, key_change, statement, verify_key

SIGNER = Ed25519PrivateKey.generate()
VAULT = "0123456789abcdef0123456789abcdef"
FILES = {"config.yaml": b"c", "manifest.yaml": b"m", "agents/bot/public.key": b"k"}
SHARDS = {"25": b"s1", "a0": b"s2"}


def good(seq: int = 7, **kw: object) -> bytes:
    return statement(signer=SIGNER, seq=seq, files=FILES, shards=SHARDS, vault=VAULT, **kw)  # type: ignore[arg-type]


def resign(data: bytes, edit: Callable[[List[str]], List[str]], signer: Ed25519PrivateKey = SIGNER) -> bytes:
    """``data`` with its body lines edited, then validly signed again."""
    lines = data.decode().split("\n")[:-2]  # drop the signature line and the final ""
    body = ("\n".join(edit(lines)) + "\n").encode()
    return body + f"signature {b64(signer.sign(body))}\n".encode()


def test_a_canonical_v2_statement_parses_with_all_its_fields() -> None:
    """A statement as the spec writes it is accepted, and every field is read back."""
    owner = x25519.Identity.generate()
    tag = endorsement(str(owner), VAULT, verify_key(SIGNER))
    old = Ed25519PrivateKey.generate()
    change = key_change(old, verify_key(SIGNER), VAULT, 5)
    parsed = parse_and_verify(good(key_changes=[change], owners=[(str(owner.to_public()), tag)]))
    assert parsed.version == 2 and parsed.vault == VAULT and parsed.seq == 7
    assert parsed.verify_key == verify_key(SIGNER)
    assert set(parsed.files) == set(FILES) and set(parsed.shards) == set(SHARDS)
    assert [c.seq for c in parsed.key_changes] == [5]
    assert parsed.owners[0].recipient == str(owner.to_public())


def test_the_largest_u64_seq_is_a_valid_seq() -> None:
    """``seq 18446744073709551615`` (u64::MAX) parses exactly (an attacker may use it; it must
    not crash or wrap)."""
    assert parse_and_verify(good(seq=2**64 - 1)).seq == 2**64 - 1


def _swap_files(lines: List[str]) -> List[str]:
    i = next(i for i, line in enumerate(lines) if line.startswith("file "))
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return lines


def _dup(prefix: str) -> Callable[[List[str]], List[str]]:
    def edit(lines: List[str]) -> List[str]:
        i = next(i for i, line in enumerate(lines) if line.startswith(prefix))
        return lines[: i + 1] + [lines[i]] + lines[i + 1:]
    return edit


def _replace(old: str, new: str) -> Callable[[List[str]], List[str]]:
    def edit(lines: List[str]) -> List[str]:
        text = "\n".join(lines)
        assert old in text, old
        return text.replace(old, new, 1).split("\n")
    return edit


def _upper_hex(lines: List[str]) -> List[str]:
    i = next(i for i, line in enumerate(lines) if line.startswith("file "))
    kind, digest, name = lines[i].split(" ", 2)
    lines[i] = f"{kind} {digest.upper()} {name}"
    return lines


REFUSED = {
    "file lines out of order": _swap_files,
    "a duplicate file line": _dup("file "),
    "a duplicate shard line": _dup("shard "),
    "uppercase hex in a digest": _upper_hex,
    "seq above u64": _replace("seq 7", "seq 18446744073709551616"),
    "seq with a leading zero": _replace("seq 7", "seq 07"),
    "seq zero": _replace("seq 7", "seq 0"),
    "an unknown line": lambda lines: lines + ["comment hello"],
    "header of a newer version": _replace("agent-vault-statement v2", "agent-vault-statement v3"),
    "vault id in uppercase": _replace(f"vault {VAULT}", f"vault {VAULT.upper()}"),
    "vault id too short": _replace(f"vault {VAULT}", f"vault {VAULT[:30]}"),
    "verify-key before vault": lambda lines: [lines[0], lines[2], lines[1], *lines[3:]],
    "two spaces in a line": _replace("seq 7", "seq  7"),
    "a shard name that is not hex": _replace(" a0", " zz"),
    "a control character in a file name": _replace("manifest.yaml", "manifest\x1b.yaml"),
}


@pytest.mark.parametrize("edit", list(REFUSED.values()), ids=list(REFUSED))
def test_non_canonical_statements_are_refused_even_when_validly_signed(edit: Callable[[List[str]], List[str]]) -> None:
    """Each deviation from the canonical form is an IntegrityError although the signature over
    the deviating body is valid: readers never accept two spellings of one state."""
    with pytest.raises(IntegrityError) as raised:
        parse_and_verify(resign(good(), edit))
    assert raised.value.code == 5 and "agent-vault verify" in str(raised.value)


def test_signature_must_be_the_whole_last_line() -> None:
    """Text after the signature line, a signature not at the start of its line, a missing
    final line break and CRLF line endings are all refused."""
    data = good()
    body, sig = data[: data.rindex(b"signature ")], data[data.rindex(b"signature "):]
    variants = [
        data + b"extra\n",
        data + b"\n",
        body[:-1] + b" " + sig,  # "…shard … a0 signature …": not at a line start
        data[:-1],
        data.replace(b"\n", b"\r\n"),
        body + b" " + sig,
    ]
    for variant in variants:
        with pytest.raises(IntegrityError):
            parse_and_verify(variant)


def test_a_forged_or_edited_statement_is_refused() -> None:
    """Any change of the body without a new signature by the named key fails verification;
    so does a body signed by a different key than the one it names."""
    data = good()
    with pytest.raises(IntegrityError, match="forged or edited"):
        parse_and_verify(data.replace(b"seq 7", b"seq 8"))
    other = Ed25519PrivateKey.generate()
    with pytest.raises(IntegrityError, match="forged or edited"):
        parse_and_verify(resign(data, lambda lines: lines, signer=other))


def test_non_canonical_signature_and_small_order_keys_are_refused() -> None:
    """Strict Ed25519: an S at or above the group order (malleated signature) and a
    small-order verify key (for which forgeries exist) are refused."""
    data = good()
    sig = base64.b64decode(data.decode().rsplit("signature ", 1)[1])
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little") + order
    malleated = sig[:32] + s.to_bytes(32, "little")
    body = data[: data.rindex(b"signature ")]
    with pytest.raises(IntegrityError):
        parse_and_verify(body + f"signature {b64(malleated)}\n".encode())
    identity_point = "ed25519:" + b64(bytes([1]) + bytes(31))
    forged = body.replace(verify_key(SIGNER).encode(), identity_point.encode())
    with pytest.raises(IntegrityError, match="verify key"):
        parse_and_verify(forged + f"signature {b64(bytes(64))}\n".encode())


def test_conflict_markers_are_recognised_at_line_starts_only() -> None:
    """A merge leaves `<<<<<<< ` / `>>>>>>> ` lines; the same text elsewhere is no marker."""
    assert has_conflict_markers(b"<<<<<<< HEAD\nseq 1\n=======\nseq 2\n>>>>>>> theirs\n")
    assert not has_conflict_markers(b"file x <<<<<<< y\n")


def test_key_change_chain_is_followed_only_through_valid_signatures() -> None:
    """From K1 the chain K1 → K2 → K3 is followed when both key-change signatures verify;
    a broken first signature still lets K2 follow, but no longer K1; an unrelated key never."""
    k1, k2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    c1 = key_change(k1, verify_key(k2), VAULT, 3)
    c2 = key_change(k2, verify_key(SIGNER), VAULT, 6)
    parsed = parse_and_verify(good(key_changes=[c1, c2]))
    assert parsed.can_follow_from(verify_key(k1)) and parsed.can_follow_from(verify_key(k2))
    assert parsed.can_follow_from(verify_key(SIGNER))
    assert not parsed.can_follow_from(verify_key(Ed25519PrivateKey.generate()))
    broken = type(c1)(c1.seq, c1.previous, b64(os.urandom(32) + bytes(32)))
    parsed = parse_and_verify(good(key_changes=[broken, c2]))
    assert not parsed.can_follow_from(verify_key(k1))
    assert parsed.can_follow_from(verify_key(k2))


def test_a_key_change_signed_for_another_vault_or_seq_is_not_followed() -> None:
    """The signed message binds the vault id and seq: a hand-over signed for another vault
    (or another seq) does not make the chain followable here."""
    k1 = Ed25519PrivateKey.generate()
    other_vault = key_change(k1, verify_key(SIGNER), "f" * 32, 5)
    assert not parse_and_verify(good(key_changes=[other_vault])).can_follow_from(verify_key(k1))
    wrong_seq = key_change(k1, verify_key(SIGNER), VAULT, 4)
    moved = type(wrong_seq)(5, wrong_seq.previous, wrong_seq.signature)
    assert not parse_and_verify(good(key_changes=[moved])).can_follow_from(verify_key(k1))


def test_key_change_lines_must_increase_and_not_pass_seq() -> None:
    """Key-change seqs strictly increase, and the last is at most the statement's seq."""
    k1, k2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with pytest.raises(IntegrityError, match="order"):
        parse_and_verify(good(key_changes=[key_change(k1, verify_key(k2), VAULT, 5),
                                           key_change(k2, verify_key(SIGNER), VAULT, 5)]))
    with pytest.raises(IntegrityError, match="key-change"):
        parse_and_verify(good(key_changes=[key_change(k1, verify_key(SIGNER), VAULT, 8)]))


def test_owner_endorsement_verifies_only_for_that_owner() -> None:
    """A tag computed (in the test, per the spec) with an owner identity is recognised for
    that identity, in either letter case; another identity, another vault id or a version-1
    statement never counts as endorsed."""
    owner, stranger = x25519.Identity.generate(), x25519.Identity.generate()
    recipient = str(owner.to_public())
    parsed = parse_and_verify(good(owners=[(recipient, endorsement(str(owner), VAULT, verify_key(SIGNER)))]))
    assert parsed.endorsed_by([(recipient, bytearray(str(owner).upper().encode()))])
    assert not parsed.endorsed_by([(str(stranger.to_public()), bytearray(str(stranger).encode()))])
    assert not parsed.endorsed_by([(recipient, bytearray(str(stranger).encode()))])
    wrong_vault = parse_and_verify(good(owners=[(recipient, endorsement(str(owner), "e" * 32, verify_key(SIGNER)))]))
    assert not wrong_vault.endorsed_by([(recipient, bytearray(str(owner).encode()))])
    v1 = parse_and_verify(statement(signer=SIGNER, seq=3, files=FILES, shards=SHARDS, version=1))
    assert v1.version == 1 and v1.vault is None
    assert not v1.endorsed_by([(recipient, bytearray(str(owner).encode()))])


def test_owner_lines_must_be_sorted_and_unique() -> None:
    """Two owner lines out of order, or twice the same recipient, are not canonical."""
    a, b = x25519.Identity.generate(), x25519.Identity.generate()
    lines = sorted([(str(a.to_public()), "00" * 32), (str(b.to_public()), "11" * 32)])

    def reverse(body: List[str]) -> List[str]:
        i = next(i for i, line in enumerate(body) if line.startswith("owner "))
        body[i], body[i + 1] = body[i + 1], body[i]
        return body

    with pytest.raises(IntegrityError, match="canonical"):
        parse_and_verify(resign(good(owners=lines), reverse))
    same = [(lines[0][0], "00" * 32), (lines[0][0], "11" * 32)]
    with pytest.raises(IntegrityError, match="canonical"):
        parse_and_verify(good(owners=same))


def test_shards_are_canonical_and_hold_only_their_own_paths() -> None:
    """A shard line for a path of another shard, unsorted lines or a missing final line break
    are refused; the canonical shard parses."""
    enc, meta = "ab" * 32, "cd" * 32
    assert parse_shard("25", f"{enc} {meta} stripe/api-key\n".encode()) == {
        "stripe/api-key": (bytes.fromhex(enc), bytes.fromhex(meta))
    }
    for bad in [f"{enc} {meta} stripe/api-key".encode(), f"{enc} {meta} other/path\n".encode(),
                f"{enc.upper()} {meta} stripe/api-key\n".encode()]:
        with pytest.raises(IntegrityError):
            parse_shard("25", bad)


def test_the_endorsement_matches_the_published_test_vector() -> None:
    """docs/format.md's known-answer vector (shared with the CLI): this identity, vault and
    key give exactly this tag — the SDK's HKDF/HMAC is the spec's, byte for byte."""
    from agent_vault._statement import endorsement_message, endorsement_tag

    identity = b"AGE-SECRET-KEY-1YGULRNNJDUGVWC7KC3EFQX3WE554XG5RPXQ3H30TMURZEKYK0D2S32ZTK0"
    message = endorsement_message("00112233445566778899aabbccddeeff",
                                  "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    assert endorsement_tag(identity, message).hex() == (
        "5b1636ee0c9fc4247426d0751fba66866232ab31e0c1ae9840ce02c3e9d535a5")


def test_owner_lines_must_name_a_valid_recipient() -> None:
    """An owner line whose recipient has the right alphabet but is not a valid age X25519
    recipient (bad checksum) is refused, like any malformed line."""
    owner = x25519.Identity.generate()
    recipient = str(owner.to_public())
    broken = recipient[:-1] + ("q" if recipient[-1] != "q" else "p")
    with pytest.raises(IntegrityError, match="owner line"):
        parse_and_verify(good(owners=[(broken, "00" * 32)]))
    assert parse_and_verify(good(owners=[(recipient, "00" * 32)])).owners[0].recipient == recipient
