//! Keyword messages: a message, or a clause, made only of keywords and courtesy words.
//! This is where short replies are read generously — "STOP", "stop!!", "please stop",
//! "STOP STOP", "stop it", "Alto ya", "dar de baja por favor" — because a keyword alone
//! has no other reading worth the risk.

use std::ops::Range;

use super::normalise::{CLAUSE_END, QUESTION_END};
use super::words::{is_any, word};

/// What a message of keywords and courtesy asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeywordMessage {
    /// At least one opt-out keyword; the range is the first one's words.
    OptOut(Range<usize>),
    OptIn,
    Help,
}

/// The opt-out keywords of one word (US carriers' standard set, the Spanish ones, and
/// "unsub", which has no other meaning).
const OPT_OUT: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "unsub",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "alto",
    "parar",
    "baja",
];

/// The opt-out keywords a leading "no" may come with: "No stop" is "No. Stop." typed
/// fast. Not CANCEL, END or QUIT ("no cancel" may mean "don't cancel"), nor the Spanish
/// ones, where "no" negates ("no parar").
const AFTER_NO: &[&str] = &["stop", "stopall", "unsubscribe", "unsub", "optout", "opt"];

const OPT_IN: &[&str] = &["start", "unstop"];
const HELP: &[&str] = &["help", "info", "ayuda"];

/// The forms of "dar" that come before "de baja": "dar de baja", "darme de baja",
/// "denme de baja", "me doy de baja".
pub(super) const DAR: &[&str] = &[
    "dar", "darme", "darse", "darnos", "dame", "denme", "deme", "den", "dennos", "doy", "da", "dan",
];

/// Courtesy and emphasis that may surround a keyword without changing it. "it", "this"
/// and "all" are here because "stop it", "end this" and "stop all" are the keyword said
/// with emphasis.
const COURTESY: &[&str] = &[
    "please",
    "pls",
    "plz",
    "plse",
    "thanks",
    "thank",
    "thx",
    "ty",
    "it",
    "this",
    "all",
    "everything",
    "now",
    "just",
    "already",
    "asap",
    "immediately",
    "ok",
    "okay",
    "por",
    "favor",
    "porfa",
    "porfavor",
    "xfa",
    "ya",
    "gracias",
    "ahora",
    "todo",
    "todos",
];

enum Kind {
    OptOut,
    OptIn,
    Help,
}

/// The keyword starting at `i` and how many words it takes.
fn keyword_at(words: &[&str], i: usize) -> Option<(Kind, usize)> {
    let w = words[i];
    if is_any(w, OPT_OUT) {
        Some((Kind::OptOut, 1))
    } else if w == "opt" && word(words, i + 1) == "out" {
        Some((Kind::OptOut, 2))
    } else if is_any(w, DAR) && word(words, i + 1) == "de" && word(words, i + 2) == "baja" {
        Some((Kind::OptOut, 3))
    } else if w == "de" && word(words, i + 1) == "baja" {
        Some((Kind::OptOut, 2))
    } else if is_any(w, OPT_IN) {
        Some((Kind::OptIn, 1))
    } else if is_any(w, HELP) {
        Some((Kind::Help, 1))
    } else {
        None
    }
}

/// Reads `words` as a keyword message: `None` as soon as one word is neither a keyword,
/// courtesy, nor a clause mark, or when there is no keyword at all.
pub(super) fn keyword_message(words: &[&str]) -> Option<KeywordMessage> {
    let mut first_opt_out: Option<Range<usize>> = None;
    let (mut opt_in, mut help) = (false, false);
    let mut after_no = false;
    let mut all_allow_no = true;
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w == "thank" && is_any(word(words, i + 1), &["you", "u"]) {
            i += 2;
            continue;
        }
        if w == CLAUSE_END || w == QUESTION_END || is_any(w, COURTESY) {
            i += 1;
            continue;
        }
        // "stop, no more": emphasis, not the "no" of "no stop".
        if w == "no" && word(words, i + 1) == "more" {
            i += 2;
            continue;
        }
        if w == "no" || w == "nope" {
            after_no = true;
            i += 1;
            continue;
        }
        let (kind, len) = keyword_at(words, i)?;
        match kind {
            Kind::OptOut => {
                all_allow_no &= is_any(w, AFTER_NO);
                first_opt_out.get_or_insert(i..i + len);
            }
            Kind::OptIn => opt_in = true,
            Kind::Help => help = true,
        }
        i += len;
    }
    if after_no && (first_opt_out.is_none() || !all_allow_no || opt_in || help) {
        return None;
    }
    match first_opt_out {
        Some(span) => Some(KeywordMessage::OptOut(span)),
        None if help => Some(KeywordMessage::Help),
        None if opt_in => Some(KeywordMessage::OptIn),
        None => None,
    }
}
