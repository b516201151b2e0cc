//! English revocation phrases inside a clause. Each pattern starts at one word, chosen by
//! the `match` in [`revocation_at`], and answers where its evidence ends.

mod vocabulary;

use super::words::{is_any, negated, only_closing, skip_any, word, word_before};
use vocabulary::{DETERMINERS, ENGLISH, GERUNDS, LATER, LEAD_INS, LISTS, MESSAGES, VERBS};

/// Picks the patterns that may start at word `i` and answers where the first match ends.
pub(super) fn revocation_at(c: &[&str], i: usize) -> Option<usize> {
    match c[i] {
        "stop" | "quit" | "cease" | "halt" => stop_contacting(c, i)
            .or_else(|| stop_the_messages(c, i))
            .or_else(|| cease_and_desist(c, i)),
        "end" | "cancel" => stop_the_messages(c, i),
        "dont" | "dnt" | "never" | "do" | "not" => do_not_contact(c, i)
            .or_else(|| do_not_want(c, i))
            .or_else(|| do_not_call_list(c, i)),
        "no" => no_more(c, i).or_else(|| do_not_want(c, i)),
        "enough" => no_more(c, i),
        "remove" | "delete" | "erase" | "drop" | "unlist" | "take" | "lose" => remove_me(c, i),
        "unsubscribe" | "unsub" | "unsuscribe" | "unsubcribe" | "stopall" => unsubscribe(c, i),
        "opt" | "opting" | "opted" | "optout" => opt_out(c, i),
        "revoke" | "withdraw" => revoke_consent(c, i),
        "leave" => leave_me_alone(c, i),
        "dnc" => do_not_call_list(c, i),
        _ => None,
    }
}

/// "me", "us", "my number", "this phone number": how many words the sender's own
/// address takes at `i`.
fn sender(c: &[&str], i: usize) -> Option<usize> {
    if is_any(word(c, i), &["me", "us"]) {
        return Some(1);
    }
    if is_any(word(c, i), &["my", "this", "our"])
        && is_any(
            word(c, i + 1),
            &["number", "phone", "cell", "cellphone", "line", "mobile"],
        )
    {
        return Some(if word(c, i + 2) == "number" { 3 } else { 2 });
    }
    None
}

/// Whether the word at `i` limits the request in time ("before 5", "on Sundays"); "at
/// all", "on this number" and "in any way" do not.
fn later(c: &[&str], i: usize) -> bool {
    match word(c, i) {
        "on" | "at" | "in" => !is_any(word(c, i + 1), &["all", "this", "my", "any"]),
        w => is_any(w, LATER),
    }
}

/// Whether the speaker is the one stopping: "I'll stop by", "we should stop calling".
fn speaker_stops(c: &[&str], i: usize) -> bool {
    const SPEAKER: &[&str] = &["i", "ill", "im", "ive", "id", "we", "weve", "wed", "lets"];
    const MODALS: &[&str] = &[
        "will", "shall", "would", "should", "can", "could", "might", "must", "gonna", "wanna", "to",
    ];
    let before = word_before(c, i, 1);
    is_any(before, SPEAKER) || (is_any(before, MODALS) && is_any(word_before(c, i, 2), SPEAKER))
}

/// Whether everything before `i` may introduce a command: "please", "I said", "can you".
fn imperative_start(c: &[&str], i: usize) -> bool {
    (0..i).all(|k| {
        is_any(c[k], LEAD_INS)
            || (is_any(c[k], &["you", "u"])
                && is_any(
                    word_before(c, k, 1),
                    &["can", "could", "would", "will", "told", "asked"],
                ))
    })
}

/// Where [`MESSAGES`] ends after determiners from `i`: "the texts", "all these calls".
fn messages(c: &[&str], i: usize) -> Option<usize> {
    let k = skip_any(c, i, DETERMINERS);
    is_any(word(c, k), MESSAGES).then_some(k + 1)
}

/// "stop texting me", "quit calling", "stop sending me these", "stop reaching out".
fn stop_contacting(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &ENGLISH) || speaker_stops(c, i) {
        return None;
    }
    let verb = word(c, i + 1);
    let mut j = i + 2;
    if is_any(verb, GERUNDS) {
        if verb == "reaching" {
            if word(c, j) != "out" {
                return None;
            }
            j += 1 + usize::from(word(c, j + 1) == "to");
        }
        // "stop calling and texting me"
        while is_any(word(c, j), &["and", "or"]) && is_any(word(c, j + 1), GERUNDS) {
            j += 2;
        }
        if let Some(len) = sender(c, j) {
            j += len;
        } else if let Some(end) = messages(c, j).filter(|_| verb == "sending") {
            // "stop sending these messages"
            return Some(end);
        } else if !only_closing(c, j) {
            // "stop calling my wife", "stop texting at night".
            return None;
        }
    } else if is_any(verb, VERBS) {
        // "stop text me", as typed in a hurry.
        j = i + 2 + sender(c, i + 2)?;
    } else {
        return None;
    }
    (!later(c, j)).then_some(j)
}

/// "stop the texts", "cancel all messages", "stop with the calls", "end these texts".
fn stop_the_messages(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &ENGLISH) || speaker_stops(c, i) {
        return None;
    }
    messages(c, i + 1 + usize::from(word(c, i + 1) == "with"))
}

fn cease_and_desist(c: &[&str], i: usize) -> Option<usize> {
    (c[i] == "cease" && word(c, i + 1) == "and" && word(c, i + 2) == "desist").then_some(i + 3)
}

/// A negative command to contact the sender no more: "don't text me anymore", "do not
/// contact me again", "never call this number again", "can you not message me".
/// Only as a command — "why don't you call me" and "you never call me" are not.
fn do_not_contact(c: &[&str], i: usize) -> Option<usize> {
    let (mut j, lead_in_ends) = match (c[i], word(c, i + 1)) {
        ("do", "not") => (i + 2, i),
        ("dont" | "dnt" | "never", _) => (i + 1, i),
        ("not", _)
            if is_any(word_before(c, i, 1), &["you", "u"])
                && is_any(word_before(c, i, 2), &["can", "could", "would", "will"]) =>
        {
            (i + 1, i)
        }
        _ => return None,
    };
    if !imperative_start(c, lead_in_ends) {
        return None;
    }
    j = skip_any(c, j, &["ever", "evr", "even", "again"]);
    let verb = word(c, j);
    if !is_any(verb, VERBS) {
        return None;
    }
    j += 1;
    if verb == "reach" {
        // "don't reach out (to me) again"
        if word(c, j) != "out" {
            return None;
        }
        j += 1;
        if word(c, j) != "to" {
            return (only_closing(c, j)).then_some(j);
        }
        j += 1;
    }
    j += sender(c, j)?;
    (!later(c, j)).then_some(j)
}

/// "I don't want any more texts", "I do not wish to receive messages", "we no longer
/// want your calls". Not after "if": "if you don't want messages, reply STOP" is a
/// quote of our own footer.
fn do_not_want(c: &[&str], i: usize) -> Option<usize> {
    const GAP: &[&str] = &["to", "receive", "get", "getting", "receiving", "have"];
    let j = match (c[i], word(c, i + 1)) {
        ("do", "not") | ("no", "longer") => i + 2,
        ("dont" | "dnt", _) => i + 1,
        _ => return None,
    };
    if is_any(word_before(c, i, 1), &["if", "unless"])
        || is_any(word_before(c, i, 2), &["if", "unless"])
    {
        return None;
    }
    if !is_any(word(c, j), &["want", "wish", "need"]) {
        return None;
    }
    let mut k = j + 1;
    while is_any(word(c, k), GAP) || is_any(word(c, k), DETERMINERS) {
        k += 1;
    }
    is_any(word(c, k), MESSAGES).then_some(k + 1)
}

/// "no more messages", "please, no further calls", "no texts please", "enough with the
/// texts".
fn no_more(c: &[&str], i: usize) -> Option<usize> {
    if !imperative_start(c, i) {
        return None;
    }
    let j = i + 1;
    match c[i] {
        "no" if is_any(word(c, j), &["more", "further"]) => messages(c, j + 1),
        // "no texts please" — the whole request, nothing after it.
        "no" => messages(c, j).filter(|&end| only_closing(c, end)),
        _ => messages(c, j + usize::from(is_any(word(c, j), &["with", "of"]))),
    }
}

/// "remove me from your list", "take me off", "take me out of your database",
/// "remove me", "delete my number", "lose my number".
fn remove_me(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &ENGLISH) {
        return None;
    }
    let verb = c[i];
    let mut j = i + 1;
    if is_any(word(c, j), &["me", "us"]) {
        j += 1;
        let preposition = match (word(c, j), word(c, j + 1)) {
            ("out" | "off", "of") => 2,
            ("from" | "off", _) => 1,
            _ => 0,
        };
        if preposition == 0 {
            // "remove me" says it all; "drop me a line" and "take me home" do not.
            let says_it = is_any(verb, &["remove", "delete", "erase", "unlist"]);
            return (says_it && only_closing(c, j)).then_some(j);
        }
        j += preposition;
        let k = skip_any(c, j, DETERMINERS);
        if is_any(word(c, k), LISTS) {
            return Some(k + 1);
        }
        // "take me off (please)"; not "drop me off at the station".
        return (verb == "take" && only_closing(c, j)).then_some(j);
    }
    if is_any(verb, &["remove", "delete", "erase", "lose", "drop"])
        && is_any(word(c, j), &["my", "our", "this"])
    {
        const DETAILS: &[&str] = &[
            "number",
            "phone",
            "cell",
            "contact",
            "info",
            "information",
            "details",
            "data",
        ];
        if is_any(word(c, j + 1), DETAILS) {
            return Some(j + 2 + usize::from(word(c, j + 2) == "number"));
        }
    }
    None
}

/// "unsubscribe", "unsubscribe me", "how do I unsubscribe", "stopall" — words with no
/// other meaning, so anywhere unless negated ("please don't unsubscribe me").
fn unsubscribe(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &ENGLISH) {
        return None;
    }
    Some(i + 1 + usize::from(is_any(word(c, i + 1), &["me", "us"])))
}

/// "opt out", "opt me out", "I want to opt out of these texts", "I'm opting out", "I
/// already opted out" — but not "opt out of the extended warranty".
fn opt_out(c: &[&str], i: usize) -> Option<usize> {
    let j = if c[i] == "optout" {
        i + 1
    } else {
        let k = i + 1 + usize::from(is_any(word(c, i + 1), &["me", "us"]));
        if word(c, k) != "out" {
            return None;
        }
        k + 1
    };
    if negated(c, i, &ENGLISH) {
        return None;
    }
    if !is_any(word(c, j), &["of", "from"]) {
        return Some(j);
    }
    let k = skip_any(c, j + 1, DETERMINERS);
    if only_closing(c, k) {
        return Some(k);
    }
    (is_any(word(c, k), MESSAGES) || is_any(word(c, k), LISTS)).then_some(k + 1)
}

/// "I revoke my consent", "withdraw consent", "I revoke".
fn revoke_consent(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &ENGLISH) {
        return None;
    }
    let k = skip_any(c, i + 1, &["my", "our", "all", "the", "any", "your"]);
    let consent = &["consent", "permission", "authorization", "authorisation"];
    if is_any(word(c, k), consent) {
        return Some(k + 1);
    }
    (c[i] == "revoke" && only_closing(c, i + 1)).then_some(i + 1)
}

fn leave_me_alone(c: &[&str], i: usize) -> Option<usize> {
    let alone = is_any(word(c, i + 1), &["me", "us"]) && word(c, i + 2) == "alone";
    (alone && !negated(c, i, &ENGLISH)).then_some(i + 3)
}

/// "put me on your do not call list", "DNC me", "add my number to the DNC list", or
/// "DNC" alone. Not "are you on the DNC list?".
fn do_not_call_list(c: &[&str], i: usize) -> Option<usize> {
    let end = match (c[i], word(c, i + 1), word(c, i + 2), word(c, i + 3)) {
        ("dnc", "list", _, _) => i + 2,
        ("dnc", _, _, _) => i + 1,
        ("do", "not", "call", "list") => i + 4,
        ("dont", "call", "list", _) => i + 3,
        _ => return None,
    };
    let about_sender = c.iter().any(|w| is_any(w, &["me", "us", "my", "our"]));
    let alone = imperative_start(c, i) && only_closing(c, end);
    (about_sender || alone).then_some(end)
}
