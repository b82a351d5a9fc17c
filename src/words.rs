//! Small helpers for the wording of messages: counted nouns, and the known name a
//! mistyped one was meant to be. A leaf: it depends on nothing of scimops.

/// "1 user", "2 users".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Names in code quotes, comma-separated: "`a`, `b`".
pub fn ticked<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    names.join(", ")
}

/// The known name closest to `name`, if it is close enough to be a typo.
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    known
        .map(|k| (edit_distance(&name, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            row.push((prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_suggestions() {
        assert_eq!(count(1, "user"), "1 user");
        assert_eq!(count(0, "user"), "0 users");
        assert_eq!(
            suggest("emial", ["email", "phone"].into_iter()),
            Some("email")
        );
        assert_eq!(suggest("zzzzzz", ["email", "phone"].into_iter()), None);
    }
}
