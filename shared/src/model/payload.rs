//! The small facts every event parser needs: how to name what arrived when it is not what was
//! expected (without echoing it back), text from outside made safe to print, bounded keys, and
//! CloudWatch's timestamps in every written form.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The most of any input an error message quotes: a 5 MB payload must not come back in full.
pub const QUOTE_MAX: usize = 200;

/// `s` quoted for an error message: at most [`QUOTE_MAX`] characters of it, printable.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(QUOTE_MAX) + 8);
    out.push('"');
    out.push_str(&clip(&printable(s), QUOTE_MAX));
    out.push('"');
    out
}

/// At most `max` characters of `s`, with how much was left out.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((i, _)) => format!("{}…(+{} chars)", &s[..i], s[i..].chars().count()),
    }
}

/// Text from an event, safe to put in a notice: control characters (a newline forging a line of
/// the body, an escape sequence for a terminal), Unicode line and paragraph separators, and the
/// invisible formatting characters (bidirectional overrides, zero-width ones) become spaces.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || invisible(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Keys of a JSON object, for error messages that say what arrived.
pub fn keys_of(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().take(8).map(|k| clip(&printable(k), 40)).collect();
            let more = m.len().saturating_sub(keys.len());
            let more = if more > 0 {
                format!(", … {more} more")
            } else {
                String::new()
            };
            format!("an object with keys [{}{more}]", keys.join(", "))
        }
        Value::Array(_) => "an array".into(),
        Value::String(_) => "a string".into(),
        Value::Number(_) => "a number".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Null => "null".into(),
    }
}

/// The longest part of a ledger key taken verbatim from outside. DynamoDB allows 2,048 bytes of
/// partition key and 1,024 of sort key; an alarm name alone may be 255 four-byte characters.
pub const KEY_PART_MAX: usize = 160;

/// `s` as a bounded part of a ledger key: itself when short, else its first characters and a
/// hash of the whole (two names that share a long prefix still get two keys).
pub fn key_part(s: &str) -> String {
    // A short name with `~` could spell another name's hashed form: it is hashed too.
    if s.len() <= KEY_PART_MAX && !s.contains('~') {
        return s.to_owned();
    }
    let mut cut = 96;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = Sha256::digest(s.as_bytes());
    format!("{}~{}", &s[..cut], hex(&digest[..12]))
}

/// Bytes as lower-case hex (digests in keys, metadata and messages).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// CloudWatch writes `2019-10-02T17:04:40.985+0000`; EventBridge and SNS envelopes use RFC 3339.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn key_parts_are_bounded_and_distinct(a in "\\PC{0,300}", b in "\\PC{0,300}") {
            let (ka, kb) = (key_part(&a), key_part(&b));
            prop_assert!(ka.len() <= KEY_PART_MAX);
            prop_assert_eq!(a == b, ka == kb);
            if a.len() <= KEY_PART_MAX && !a.contains('~') { prop_assert_eq!(&ka, &a); }
        }

        #[test]
        fn quotes_are_short_and_printable(s in "(?s).{0,1000}") {
            let q = quote(&s);
            prop_assert!(!q.chars().any(char::is_control));
            prop_assert!(q.chars().count() <= QUOTE_MAX + 24);
        }
    }

    #[test]
    fn long_names_share_no_key_by_prefix() {
        let a = "ä".repeat(255);
        let mut b = a.clone();
        b.push('x');
        assert_ne!(key_part(&a), key_part(&b));
        assert!(key_part(&a).starts_with("ää"));
    }

    #[test]
    fn a_newline_cannot_forge_a_line() {
        assert_eq!(
            printable("x\nAction: restart → done"),
            "x Action: restart → done"
        );
    }
}
