//! Property tests: `classify` never panics and ignores ASCII case on any text; every
//! opt-out keyword, wrapped in random punctuation, whitespace, emoji and case, alone or
//! with courtesy, is an opt-out; and an English keyword after "don't" never is.

use proptest::prelude::*;

use super::*;

/// The keywords as people type them, one or several words.
const KEYWORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "opt out",
    "optout",
    "opt-out",
    "alto",
    "parar",
    "baja",
    "dar de baja",
    "darme de baja",
];

/// The English keywords, which "don't" negates.
const ENGLISH_KEYWORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "opt out",
    "optout",
    "opt-out",
];

const COURTESY: &[&str] = &[
    "please",
    "pls",
    "now",
    "thanks",
    "thank you",
    "it",
    "all",
    "por favor",
    "ya",
    "gracias",
];

/// Pieces of messages, to reach the patterns more often than random text would.
const FRAGMENTS: &[&str] = &[
    "stop",
    "don't",
    "no",
    "me",
    "texting",
    "text",
    "call",
    "de",
    "baja",
    "dar",
    "opt",
    "out",
    "of",
    "the",
    "list",
    "remove",
    "take",
    "off",
    "más",
    "mensajes",
    "escriban",
    "dejen",
    "escribirme",
    "if",
    "you",
    "i",
    "help",
    "start",
    "please",
    "by",
    "alone",
    "leave",
    "más",
    "ñ",
    "É",
    "🛑",
    "?",
    "!",
    ".",
    ",",
    "'",
    "-",
    "",
    "\n",
    "NO",
    "ALTO",
    "quiero",
    "que",
];

/// Punctuation, whitespace and emoji that may surround a keyword.
fn noise() -> impl Strategy<Value = String> {
    "[ \t\n.,!?¡¿;:'\"()*~…🛑🙏👍-]{0,6}"
}

/// `text` with each ASCII letter's case chosen by `upper`.
fn with_case(text: &str, upper: &[bool]) -> String {
    text.chars()
        .zip(upper.iter().cycle())
        .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
        .collect()
}

fn message() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(FRAGMENTS), noise()), 0..12).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(fragment, noise)| format!("{fragment}{noise} "))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_text(text in any::<String>()) {
        let intent = classify(&text);
        prop_assert_eq!(is_opt_out(&text), matches!(intent, InboundIntent::OptOut { .. }));
    }

    #[test]
    fn never_panics_on_message_like_text(text in message()) {
        classify(&text);
    }

    #[test]
    fn ascii_case_never_matters(text in prop_oneof![message(), any::<String>()]) {
        prop_assert_eq!(classify(&text), classify(&text.to_ascii_uppercase()));
        prop_assert_eq!(classify(&text), classify(&text.to_ascii_lowercase()));
    }

    #[test]
    fn a_keyword_in_any_dress_is_an_opt_out(
        keyword in prop::sample::select(KEYWORDS),
        upper in prop::collection::vec(any::<bool>(), 1..16),
        before in noise(),
        after in noise(),
    ) {
        let text = format!("{before}{}{after}", with_case(keyword, &upper));
        prop_assert!(is_opt_out(&text), "{:?} is {:?}", text, classify(&text));
    }

    #[test]
    fn a_keyword_with_courtesy_is_an_opt_out(
        keyword in prop::sample::select(KEYWORDS),
        courtesy in prop::sample::select(COURTESY),
        courtesy_first in any::<bool>(),
        repeat in any::<bool>(),
        upper in prop::collection::vec(any::<bool>(), 1..16),
        before in noise(),
        between in "[ ,.!]{1,3}",
        after in noise(),
    ) {
        let keyword = if repeat { format!("{keyword} {keyword}") } else { keyword.to_owned() };
        let (first, second) = if courtesy_first {
            (courtesy, keyword.as_str())
        } else {
            (keyword.as_str(), courtesy)
        };
        let text = format!("{before}{}{between}{}{after}", with_case(first, &upper), with_case(second, &upper));
        prop_assert!(is_opt_out(&text), "{:?} is {:?}", text, classify(&text));
    }

    #[test]
    fn a_negated_english_keyword_is_not_an_opt_out(
        keyword in prop::sample::select(ENGLISH_KEYWORDS),
        negation in prop::sample::select(&["don't", "dont", "do not", "Don’t"][..]),
        upper in prop::collection::vec(any::<bool>(), 1..16),
        before in noise(),
        after in noise(),
    ) {
        let text = format!("{before}{} {}{after}", with_case(negation, &upper), with_case(keyword, &upper));
        prop_assert!(!is_opt_out(&text), "{:?} is {:?}", text, classify(&text));
    }
}
