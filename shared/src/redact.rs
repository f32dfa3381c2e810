//! Redaction of free text read from the outside (log lines, ECS stop reasons, service events)
//! before it reaches anything that keeps or sends it: the ledger, a notice, a post-mortem.
//!
//! It errs on the side of hiding: a value that merely looks like a credential is replaced, and an
//! operator reads the original in the service's own logs, under their own access.
//!
//! Hidden, each replaced by [`MASK`]:
//! - the value after a secret-sounding key (`password=…`, `"api_key": "…"`, `token: …`,
//!   `Authorization: Bearer …`), whatever its length;
//! - the password of a URL's user info (`postgres://app:…@db`);
//! - JSON Web Tokens, AWS access key ids, and any other run of 20 or more token characters
//!   (letters, digits, `+/=_`) that mixes letters and digits: API keys, session tokens, base64 or
//!   hex secrets.

/// What a hidden value is replaced with.
pub const MASK: &str = "[REDACTED]";

/// Key fragments whose value is hidden (matched case-insensitively, `-` and `_` ignored).
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "credential",
    "authorization",
    "auth",
    "cookie",
    "session",
    "signature",
];

/// The shortest letters-and-digits run hidden without a key naming it.
const LONG_TOKEN: usize = 20;

/// `text` with every value that looks like a secret replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let after_keys = keyed_values(text);
    let after_urls = url_passwords(&after_keys);
    long_tokens(&after_urls)
}

/// [`redact`], then cut to at most `max` characters (on a character boundary, `…` marking a cut).
/// Line breaks and tabs become spaces: one entry stays one line.
pub fn redact_clip(text: &str, max: usize) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = redact(&flat);
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_')
}

fn secret_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    !norm.is_empty() && SECRET_KEYS.iter().any(|k| norm.contains(k))
}

/// Hides the value after `key=`, `key:`, `"key": "` and `key => ` for a secret-sounding key, and
/// the credentials after `Bearer`/`Basic`.
fn keyed_values(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // A key: a run of identifier characters.
        if chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push_str(&word);
            let lower = word.to_ascii_lowercase();
            if lower == "bearer" || lower == "basic" {
                i = skip_value(&chars, i, &mut out, true);
                continue;
            }
            if secret_key(&word) {
                i = separator_then_value(&chars, i, &mut out);
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// After a secret key: a separator (`=`, `:`, `=>`, optionally quoted and spaced), then the value.
fn separator_then_value(chars: &[char], mut i: usize, out: &mut String) -> usize {
    let start = i;
    // A closing quote of the key, spaces, then `=`/`:`/`=>`, spaces, an opening quote.
    if i < chars.len() && matches!(chars[i], '"' | '\'') {
        i += 1;
    }
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    let sep = if i < chars.len() && chars[i] == '=' {
        i += 1;
        if i < chars.len() && chars[i] == '>' {
            i += 1;
        }
        true
    } else if i < chars.len() && chars[i] == ':' {
        i += 1;
        true
    } else {
        false
    };
    if !sep {
        return start;
    }
    out.extend(&chars[start..i]);
    skip_value(chars, i, out, false)
}

/// Writes the mask instead of the value starting at `i` (after spaces and an opening quote);
/// `scheme` values (after `Bearer`) need a space first.
fn skip_value(chars: &[char], mut i: usize, out: &mut String, scheme: bool) -> usize {
    let spaces = i;
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    if scheme && i == spaces {
        return i;
    }
    out.extend(&chars[spaces..i]);
    let quote = (i < chars.len() && matches!(chars[i], '"' | '\'')).then(|| chars[i]);
    if let Some(q) = quote {
        out.push(q);
        i += 1;
        let begin = i;
        while i < chars.len() && chars[i] != q {
            // An escaped quote is part of the value.
            i += if chars[i] == '\\' { 2 } else { 1 };
        }
        i = i.min(chars.len());
        if i > begin {
            out.push_str(MASK);
        }
        return i;
    }
    let begin = i;
    while i < chars.len()
        && !chars[i].is_whitespace()
        && !matches!(chars[i], ',' | ';' | '&' | '}' | ']' | ')')
    {
        i += 1;
    }
    let word: String = chars[begin..i].iter().collect();
    if !scheme
        && matches!(
            word.to_ascii_lowercase().as_str(),
            "bearer" | "basic" | "token"
        )
    {
        // `Authorization: Bearer <credentials>`: the scheme stays, the credentials go.
        out.push_str(&word);
        return skip_value(chars, i, out, true);
    }
    if i > begin {
        out.push_str(MASK);
    }
    i
}

/// Hides the password of every `scheme://user:password@host` (a password may hold `/`).
fn url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let url = &tail[..end];
        // The last `@` ends the user info: a password may hold one too.
        let userinfo = url.rfind('@').map(|a| &url[..a]);
        match userinfo.and_then(|u| u.find(':').map(|c| (u, c))) {
            Some((u, colon)) if !u[..colon].contains('/') => {
                out.push_str(&u[..=colon]);
                out.push_str(MASK);
                rest = &tail[u.len()..];
            }
            _ => {
                out.push_str(url);
                rest = &tail[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Hides JWTs and long runs of token characters that mix letters and digits.
fn long_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if looks_secret(run) {
            out.push_str(MASK);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        // A JWT's dots join its three parts into one run.
        if is_token_char(c) || c == '-' || (c == '.' && run.starts_with("eyJ")) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn looks_secret(run: &str) -> bool {
    if run.starts_with("eyJ") && run.matches('.').count() >= 2 {
        return true;
    }
    // Hyphens split identifiers (`ip-10-0-1-23`, UUID-shaped request ids are checked part by
    // part): only a part long enough on its own is a token.
    run.split('-').any(|part| {
        part.len() >= LONG_TOKEN
            && part.chars().all(is_token_char)
            && part.chars().any(|c| c.is_ascii_digit())
            && part.chars().any(|c| c.is_ascii_alphabetic())
            && part != MASK
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_keyed_values_of_any_length() {
        for (line, secret) in [
            ("db password=hunter2 failed", "hunter2"),
            ("DB_PASSWORD: hunter2", "hunter2"),
            (r#"{"api_key": "abc"}"#, "abc"),
            ("Authorization: Bearer abc.def", "abc.def"),
            ("token => 'xyz'", "xyz"),
            ("connect postgres://app:s3cr3t@db:5432/app", "s3cr3t"),
            ("connect postgres://app:s3/cr3t@db:5432/app", "s3/cr3t"),
            ("connect postgres://app:p@ssw0rd@db/app", "ssw0rd"),
            (r#"{"password":"a\"bc"}"#, "bc"),
            ("secret-key=zz9; next", "zz9"),
        ] {
            let r = redact(line);
            assert!(!r.contains(secret), "{line} → {r}");
            assert!(r.contains(MASK), "{line} → {r}");
        }
    }

    #[test]
    fn keeps_ordinary_text() {
        for line in [
            "ERROR connection refused to ip-10-0-1-23.ec2.internal:5432",
            "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
            "Essential container in task exited",
            "OutOfMemoryError: Container killed due to memory usage",
            "retry 3 of 5: no answer",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn hides_unlabelled_tokens() {
        let key = "AKIAIOSFODNN7EXAMPLE";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let r = redact(&format!("using {key} and {jwt} now"));
        assert_eq!(r, format!("using {MASK} and {MASK} now"));
    }

    #[test]
    fn clips_on_a_character_boundary() {
        let r = redact_clip(&"é".repeat(400), 300);
        assert_eq!(r.chars().count(), 300);
        assert!(r.ends_with('…'));
    }
}
