//! Small helpers for matching hand-written patterns over the words of one clause, and
//! the word lists both languages share. Patterns index past the end freely: [`word`]
//! answers "" there, which no list contains, so a pattern that runs out simply fails.

/// The word at `i`, or "" past the end.
pub(super) fn word<'a>(clause: &[&'a str], i: usize) -> &'a str {
    clause.get(i).copied().unwrap_or("")
}

/// The word `back` places before `i`, or "" before the start.
pub(super) fn word_before<'a>(clause: &[&'a str], i: usize, back: usize) -> &'a str {
    i.checked_sub(back).map_or("", |k| word(clause, k))
}

pub(super) fn is_any(word: &str, list: &[&str]) -> bool {
    list.contains(&word)
}

/// The first index from `i` on whose word is not in `list`.
pub(super) fn skip_any(clause: &[&str], mut i: usize, list: &[&str]) -> usize {
    while is_any(word(clause, i), list) {
        i += 1;
    }
    i
}

/// Words that may close a request without changing it: "stop texting me *now
/// please*", "no me escriban *más por favor*".
const CLOSING: &[&str] = &[
    "please",
    "pls",
    "plz",
    "plse",
    "now",
    "already",
    "anymore",
    "again",
    "ever",
    "so",
    "much",
    "here",
    "thanks",
    "thank",
    "thx",
    "ty",
    "ok",
    "okay",
    "lol",
    "asap",
    "immediately",
    "forever",
    "seriously",
    "period",
    "guys",
    "sir",
    "maam",
    "man",
    "dude",
    "bro",
    "por",
    "favor",
    "porfa",
    "porfavor",
    "xfa",
    "gracias",
    "ya",
    "mas",
    "nunca",
    "jamas",
];

/// Whether nothing but closing courtesy follows from `i` to the end of the clause
/// ("thank you" included).
pub(super) fn only_closing(clause: &[&str], mut i: usize) -> bool {
    while i < clause.len() {
        if clause[i] == "thank" && is_any(word(clause, i + 1), &["you", "u"]) {
            i += 2;
        } else if is_any(clause[i], CLOSING) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// How a language negates, for [`negated`].
pub(super) struct Negation {
    /// Words that negate what follows them.
    pub words: &'static [&'static str],
    /// Words that make a following negation a condition ("*if* you don't stop texting
    /// me" is still a request to stop).
    pub conditions: &'static [&'static str],
    /// Words that start a new thought; a negation before them does not reach past.
    pub breaks: &'static [&'static str],
}

/// How far back a negation reaches: "I *don't* want you to stop".
const NEGATION_REACH: usize = 4;

/// Whether the word at `i` is negated by one of the few words before it.
pub(super) fn negated(clause: &[&str], i: usize, negation: &Negation) -> bool {
    for k in (i.saturating_sub(NEGATION_REACH)..i).rev() {
        let w = clause[k];
        if is_any(w, negation.breaks) {
            return false;
        }
        if is_any(w, negation.words) {
            let conditional =
                (k.saturating_sub(2)..k).any(|m| is_any(clause[m], negation.conditions));
            return !conditional;
        }
    }
    false
}
