//! "Did you mean …?" for names that do not exist: the nearest secret, agent or group names of
//! the vault, from its verified listing (`Vault::names`) — names are plaintext metadata, never
//! values.

use agent_vault::vault::Names;

/// The hint for a secret path that is not in the vault: the group of that name's secrets, or
/// the nearest paths (also a path whose last segment is the name given).
pub fn secret(wanted: &str, names: &Names) -> Option<String> {
    if names.groups.iter().any(|g| g == wanted) {
        let members: Vec<&str> = names
            .secrets
            .iter()
            .filter(|(_, group)| group == wanted)
            .map(|(path, _)| path.as_str())
            .collect();
        return Some(if members.is_empty() {
            format!("'{wanted}' is a group, not a secret; it has no secrets yet")
        } else {
            format!(
                "'{wanted}' is a group, not a secret; its secrets include: {}",
                shorten(&members)
            )
        });
    }
    let paths: Vec<String> = names.secrets.iter().map(|(p, _)| p.clone()).collect();
    let mut near = nearest(wanted, &paths);
    for path in &paths {
        if path.rsplit('/').next() == Some(wanted) && !near.contains(&path.as_str()) {
            near.push(path);
        }
    }
    did_you_mean(&near)
}

/// The hint for an agent or group name that does not exist.
pub fn name(wanted: &str, candidates: &[String]) -> Option<String> {
    did_you_mean(&nearest(wanted, candidates))
}

fn did_you_mean(near: &[&str]) -> Option<String> {
    match near {
        [] => None,
        [one] => Some(format!("did you mean '{one}'?")),
        many => Some(format!("did you mean one of: {}?", shorten(many))),
    }
}

fn shorten(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("'{n}'")).collect();
    match names.len() {
        n if n > 5 => format!("{}, … ({n} in all)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// Candidates within a small edit distance (transpositions count once), closest first: at
/// most 1 edit for names up to 4 characters, 2 up to 12, 3 beyond.
fn nearest<'a>(wanted: &str, candidates: &'a [String]) -> Vec<&'a str> {
    let limit = match wanted.chars().count() {
        0..=4 => 1,
        5..=12 => 2,
        _ => 3,
    };
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(wanted, c), c.as_str()))
        .filter(|(d, c)| *d <= limit && *c != wanted)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            secrets: vec![
                ("db/password".into(), "db".into()),
                ("stripe/api-key".into(), "stripe".into()),
                ("stripe/webhook".into(), "stripe".into()),
            ],
            groups: vec!["db".into(), "stripe".into()],
            agents: vec!["deploy-bot".into(), "web-bot".into()],
        }
    }

    #[test]
    fn typos_groups_and_last_segments_are_suggested() {
        let n = names();
        assert_eq!(
            secret("stripe/api-kye", &n).unwrap(),
            "did you mean 'stripe/api-key'?"
        );
        let group = secret("stripe", &n).unwrap();
        assert!(
            group.contains("is a group") && group.contains("'stripe/webhook'"),
            "{group}"
        );
        assert_eq!(
            secret("password", &n).unwrap(),
            "did you mean 'db/password'?"
        );
        assert_eq!(secret("nothing/like-it", &n), None);
        assert_eq!(
            name("deploy-bto", &n.agents).unwrap(),
            "did you mean 'deploy-bot'?"
        );
        assert_eq!(name("x", &n.agents), None);
    }
}
