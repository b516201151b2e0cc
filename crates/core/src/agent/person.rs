//! Noticing that a lead asks to talk to a person instead of the agent, in English or
//! Spanish, with the words that said so as evidence.
//!
//! The text goes through the opt-out normaliser first (lower case, accents folded, "?"
//! and "." as clause marks), so "¿Puedo hablar con un ASESOR?" and "puedo hablar con
//! un asesor" read the same. Then, clause by clause, three patterns:
//!
//! 1. **Bare request**: the clause is nothing but a person word with courtesy and
//!    articles around it: "Agent", "HUMAN please", "a real person", "asesor por
//!    favor", "una persona", "Representative?".
//! 2. **Request verb + person**: a verb that asks for something ("talk", "speak",
//!    "connect", "want", "need", "get", "hablar", "pásame", "quiero", …), then only
//!    articles and a few adjectives, then a person word: "can I speak with a human",
//!    "connect me to one of your sales agents", "quiero hablar con un asesor". A
//!    person word followed by "call me" / "help me" is the same request turned round:
//!    "can someone call me?". A negation a few words before the verb cancels it ("I
//!    don't need an agent", "no quiero hablar con un asesor").
//! 3. **Set phrases** that name a person as opposed to a program, anywhere:
//!    "real person", "live agent", "human being", "alguien real", "persona real"
//!    — unless the lead says it of themselves ("I'm a real person").
//!
//! What this leaves out is deliberate. A person word in a statement is not a request:
//! "I am a real estate agent", "my insurance agent already called", "human resources",
//! "in person", "personal loan", and — the debatable one — "the agent told me the price
//! is 300k", which talks *about* an agent (theirs or ours) without asking for one; the
//! flow reads it as an answer attempt, and an advisor sees it in the conversation
//! anyway. Words between the verb and the person word must be articles or adjectives,
//! so "talk to my agent first" and "I need a real estate agent" do not count: the lead
//! names someone else. A question about the agent itself ("are you a bot?", "are you
//! human?") is not a request either; "is this a real person?" is, through pattern 3,
//! because a lead who doubts it is better served by one. The cost of pattern 1 is that
//! a lead who answers "Agent" to "what do you do?" is handed off — a cheap mistake.

use crate::opt_out::{CLAUSE_END, QUESTION_END, normalise};

/// Whether `text` asks to talk to a person; `Some` holds the normalised words that
/// said so ("can i speak with a human", "pasame con una persona", "agent").
pub fn asks_for_person(text: &str) -> Option<String> {
    let normalised = normalise(text);
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
    words
        .split(|w| *w == CLAUSE_END || *w == QUESTION_END)
        .filter(|clause| !clause.is_empty())
        .find_map(|clause| {
            let span = bare_request(clause)
                .or_else(|| verb_request(clause))
                .or_else(|| set_phrase(clause))?;
            Some(clause[span].join(" "))
        })
}

/// A word or phrase naming someone who could take over, and whether it is a request
/// on its own (pattern 1): "agent" is, "someone" and "manager" are not.
const PEOPLE: &[(&[&str], bool)] = &[
    (&["agent"], true),
    (&["agents"], true),
    (&["agente"], true),
    (&["agentes"], true),
    (&["human"], true),
    (&["humans"], true),
    (&["humano"], true),
    (&["humana"], true),
    (&["humanos"], true),
    (&["person"], true),
    (&["persona"], true),
    (&["representative"], true),
    (&["representatives"], true),
    (&["representante"], true),
    (&["representantes"], true),
    (&["advisor"], true),
    (&["advisors"], true),
    (&["adviser"], true),
    (&["advisers"], true),
    (&["asesor"], true),
    (&["asesora"], true),
    (&["asesores"], true),
    (&["operator"], true),
    (&["operador"], true),
    (&["operadora"], true),
    (&["customer", "service"], true),
    (&["customer", "support"], true),
    (&["atencion", "al", "cliente"], true),
    (&["servicio", "al", "cliente"], true),
    (&["rep"], false),
    (&["reps"], false),
    (&["manager"], false),
    (&["supervisor"], false),
    (&["gerente"], false),
    (&["ejecutivo"], false),
    (&["ejecutiva"], false),
    (&["realtor"], false),
    (&["someone"], false),
    (&["somebody"], false),
    (&["anyone"], false),
    (&["anybody"], false),
    (&["alguien"], false),
];

/// Words after a person word that make it something else: "human resources", "the
/// agents number", "the agent said".
const NOT_A_PERSON_AFTER: &[&str] = &[
    "resources",
    "rights",
    "error",
    "nature",
    "trafficking",
    "number",
    "phone",
    "email",
    "name",
    "fee",
    "fees",
    "commission",
    "office",
    "license",
    "said",
    "says",
    "told",
    "tells",
];

/// Articles and adjectives that may stand between a request verb and the person:
/// "speak *with a real* person", "connect me *to one of your sales* agents",
/// "hablar *con un* asesor". Possessives other than "your" are left out on purpose:
/// "my agent" is the lead's own.
const BETWEEN: &[&str] = &[
    "to",
    "with",
    "me",
    "a",
    "an",
    "the",
    "one",
    "of",
    "your",
    "some",
    "any",
    "another",
    "other",
    "real",
    "live",
    "actual",
    "sales",
    "support",
    "through",
    "back",
    "over",
    "directly",
    "con",
    "al",
    "un",
    "una",
    "el",
    "la",
    "los",
    "las",
    "algun",
    "alguno",
    "alguna",
    "otro",
    "otra",
    "de",
    "ventas",
    "verdadero",
    "verdadera",
    "directamente",
];

/// Courtesy that may surround a bare request: "agent please", "hola, asesor".
const COURTESY: &[&str] = &[
    "please", "pls", "plz", "now", "thanks", "thank", "you", "hi", "hello", "hey", "ok", "okay",
    "just", "asap", "por", "favor", "porfa", "porfavor", "ya", "gracias", "hola",
];

/// Negations that cancel a request verb a few words later: "I *don't* want to talk to
/// an agent", "*no* quiero hablar con un asesor".
const NEGATIONS: &[&str] = &[
    "dont", "not", "never", "didnt", "doesnt", "wont", "cant", "without", "nor", "no", "nunca",
    "sin", "tampoco", "ni",
];

/// How far back a negation reaches from the verb.
const NEGATION_REACH: usize = 4;

/// Words before a request verb kept in the evidence: "*can i* speak with a human",
/// "*quiero* hablar con un asesor".
const LEAD_IN: &[&str] = &[
    "i", "can", "could", "may", "please", "want", "wanna", "need", "to", "id", "would", "like",
    "let", "me", "lemme", "just", "quiero", "necesito", "puedo", "puedes", "puede", "pueden",
    "podria", "podrias", "quisiera", "se", "por", "favor",
];

/// Verbs after a person word that turn it into a request: "can someone *call* me".
const ASKED_TO_ACT: &[&str] = &["call", "text", "contact", "reach", "help", "phone"];

/// Phrases that name a person as opposed to a program (pattern 3).
const SET_PHRASES: &[&[&str]] = &[
    &["real", "person"],
    &["real", "human"],
    &["live", "person"],
    &["live", "agent"],
    &["actual", "person"],
    &["actual", "human"],
    &["human", "being"],
    &["alguien", "real"],
    &["persona", "real"],
    &["humano", "real"],
    &["ser", "humano"],
    &["persona", "de", "verdad"],
];

/// Words by which a lead speaks of themselves: "*I'm a* real person".
const SELF: &[&str] = &["im", "am", "soy", "were", "as"];

fn is_any(word: &str, list: &[&str]) -> bool {
    list.contains(&word)
}

/// The person word or phrase starting at `i`: its end, and whether it is a request on
/// its own.
fn person_at(clause: &[&str], i: usize) -> Option<(usize, bool)> {
    let rest = &clause[i..];
    PEOPLE.iter().find_map(|(phrase, bare)| {
        let end = i + phrase.len();
        let next = clause.get(end).copied().unwrap_or("");
        (rest.starts_with(phrase) && !is_any(next, NOT_A_PERSON_AFTER)).then_some((end, *bare))
    })
}

/// Pattern 1: the clause is one bare person word with only courtesy and articles.
fn bare_request(clause: &[&str]) -> Option<std::ops::Range<usize>> {
    let mut found = None;
    let mut i = 0;
    while i < clause.len() {
        match person_at(clause, i) {
            Some((end, true)) if found.is_none() => {
                // "a *real* person": the adjective belongs to the evidence.
                let start = if i > 0 && is_any(clause[i - 1], &["real", "live", "actual"]) {
                    i - 1
                } else {
                    i
                };
                found = Some(start..end);
                i = end;
            }
            _ if is_any(clause[i], COURTESY) || is_any(clause[i], BETWEEN) => i += 1,
            _ => return None,
        }
    }
    found
}

/// Pattern 2: a request verb, then only [`BETWEEN`] words, then a person; or a person
/// asked to call or help.
fn verb_request(clause: &[&str]) -> Option<std::ops::Range<usize>> {
    (0..clause.len()).find_map(|i| {
        if request_verb(clause, i) && !negated(clause, i) {
            let mut k = i + 1;
            while k < clause.len() && person_at(clause, k).is_none() && is_any(clause[k], BETWEEN) {
                k += 1;
            }
            if let Some((end, _)) = (k < clause.len()).then(|| person_at(clause, k)).flatten() {
                return Some(lead_in(clause, i)..end);
            }
        }
        let (end, _) = person_at(clause, i)?;
        let acts =
            is_any(word(clause, end), ASKED_TO_ACT) && is_any(word(clause, end + 1), &["me", "us"]);
        let start = (0..i)
            .rev()
            .take_while(|&k| is_any(clause[k], BETWEEN))
            .last()
            .unwrap_or(i);
        let own = start > 0 && is_any(clause[start - 1], &["my", "our", "mi", "his", "her"]);
        (acts && !own && !negated(clause, start)).then(|| lead_in(clause, start)..end + 2)
    })
}

/// Whether the word at `i` asks for something, given the words before it.
fn request_verb(clause: &[&str], i: usize) -> bool {
    let before = |back: usize| i.checked_sub(back).map_or("", |k| clause[k]);
    match clause[i] {
        "talk" | "speak" | "chat" | "connect" | "transfer" | "put" | "get" | "want" | "wanna"
        | "need" | "prefer" | "give" | "reach" | "contact" | "send" | "hablar" | "comunicarme"
        | "comunicar" | "comuniqueme" | "comunicame" | "comuniquen" | "pasame" | "pasenme"
        | "paseme" | "pasar" | "transfiereme" | "transferirme" | "transfiere" | "conectame"
        | "conectar" | "conectarme" | "quiero" | "quisiera" | "necesito" | "prefiero" | "deseo"
        | "busco" | "dame" | "denme" | "hay" | "llame" | "llamen" | "contacte" | "contacten"
        | "contactar" => true,
        // "I'd like a human", not "I like the agent".
        "like" => is_any(before(1), &["id", "would", "wd"]),
        // "can I have an agent", not "we have an agent".
        "have" => before(1) == "i" && is_any(before(2), &["can", "could", "may"]),
        // "is there a human", not "there is an agent in my family".
        "there" => is_any(before(1), &["is", "any"]),
        _ => false,
    }
}

/// Whether a negation stands shortly before `i`. A Spanish "no" negates; an English
/// "no" before "I" starts an answer ("no I want a person").
fn negated(clause: &[&str], i: usize) -> bool {
    (i.saturating_sub(NEGATION_REACH)..i).any(|k| {
        is_any(clause[k], NEGATIONS)
            && !(clause[k] == "no" && is_any(word(clause, k + 1), &["i", "im"]))
    })
}

/// The start of the evidence: `verb` moved back over the words that introduce it.
fn lead_in(clause: &[&str], verb: usize) -> usize {
    let mut start = verb;
    while start > 0 && verb - start < 6 && is_any(clause[start - 1], LEAD_IN) {
        start -= 1;
    }
    start
}

/// Pattern 3: a set phrase anywhere, unless the lead says it of themselves.
fn set_phrase(clause: &[&str]) -> Option<std::ops::Range<usize>> {
    (0..clause.len()).find_map(|i| {
        let phrase = SET_PHRASES
            .iter()
            .find(|phrase| clause[i..].starts_with(phrase))?;
        let of_themselves = (i.saturating_sub(3)..i).any(|k| is_any(clause[k], SELF));
        (!of_themselves).then(|| i..i + phrase.len())
    })
}

fn word<'a>(clause: &[&'a str], i: usize) -> &'a str {
    clause.get(i).copied().unwrap_or("")
}

#[cfg(test)]
mod tests;
