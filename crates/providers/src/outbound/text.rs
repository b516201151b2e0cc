//! What a tenant may read of a remote party's answer: an error code when it is a short
//! token, a message on one line and cut short; and, for the operator's log only, a
//! failure's whole chain of causes.

/// How much of a remote party's own error message a tenant reads: enough for
/// "Invalid 'To' Phone Number", too little to page through whatever answered.
pub const MESSAGE_CHARS: usize = 120;

/// The longest error code kept; codes are short tokens (21211, 131026,
/// `model_not_found`).
pub const CODE_CHARS: usize = 32;

/// A remote party's error code when it is a short token, else nothing.
pub fn clean_code(code: &str) -> Option<String> {
    let code = code.trim();
    let token = !code.is_empty()
        && code.len() <= CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    token.then(|| code.to_owned())
}

/// A remote party's message on one line, without control characters, cut to
/// [`MESSAGE_CHARS`]; nothing when it is blank.
pub fn clean_message(message: &str) -> Option<String> {
    let one_line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = one_line.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    Some(excerpt(&words.join(" "), MESSAGE_CHARS))
}

/// The start of `text`, at most `chars` characters, "…" when cut.
pub fn excerpt(text: &str, chars: usize) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return "(empty body)".into();
    }
    match trimmed.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// An error and its causes on one line, for the operator's log (never for a tenant:
/// the causes say what is listening where).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_long_bodies_on_a_char_boundary() {
        let long = "é".repeat(1000);
        assert_eq!(excerpt(&long, 300).chars().count(), 301);
        assert_eq!(excerpt("  ", 300), "(empty body)");
    }

    #[test]
    fn messages_lose_control_characters_and_length() {
        assert_eq!(
            clean_message("Invalid\n'To'\u{1b}[31m  Phone\tNumber\r\n").as_deref(),
            Some("Invalid 'To' [31m Phone Number")
        );
        let long = clean_message(&"word ".repeat(100)).unwrap();
        assert_eq!(long.chars().count(), MESSAGE_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(clean_message(" \n\t "), None);
    }

    #[test]
    fn codes_are_short_tokens_or_nothing() {
        assert_eq!(clean_code("21211").as_deref(), Some("21211"));
        assert_eq!(
            clean_code(" rate_limited ").as_deref(),
            Some("rate_limited")
        );
        assert_eq!(clean_code("<html>"), None);
        assert_eq!(clean_code(&"1".repeat(CODE_CHARS + 1)), None);
        assert_eq!(clean_code(""), None);
    }
}
