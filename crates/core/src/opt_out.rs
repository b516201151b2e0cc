//! Opt-out detection: what an inbound message asks of us before anything else reads
//! it — stop (`OptOut`, with the words that said so as evidence), `Help`, re-subscribe
//! (`OptIn`), or nothing of the kind (`None`).
//!
//! One pure function, [`classify`], in three steps:
//!
//! 1. **Normalise** (`normalise`): lower-case, fold the accents of Spanish (and
//!    their Western European cousins) to plain letters, drop apostrophes so "don't" is
//!    one word, collapse a letter repeated three times or more ("stooop", "pleaseee"),
//!    and turn everything else — punctuation, emoji, symbols — into spaces, except that
//!    sentence punctuation (`. , ! ; : … ¡ ¿` and line breaks) becomes a `.` word and a
//!    question mark a `?` word, which split the message into clauses.
//! 2. **Keyword messages**: a message made only of keywords and courtesy words is
//!    taken at its word. STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE,
//!    OPT OUT / OPTOUT / OPT-OUT, ALTO, PARAR, BAJA and DAR/DARME DE BAJA are an
//!    opt-out alone or with "please", "now", "thanks", "it", "all", "por favor", "ya",
//!    "gracias", … around them or repeated ("STOP STOP", "stop it", "please stop!!").
//!    HELP / INFO / AYUDA alone are `Help`; START / UNSTOP alone are `OptIn`. When
//!    kinds mix, opt-out wins (the safe reading), and help wins over opt-in (an
//!    opt-in re-subscribes, so it must be unambiguous). The same opt-out test is then
//!    made clause by clause, so "Who is this? STOP" and "No, stop." count — but not a
//!    clause ending in `?` ("Cancel? No, move it to Friday"), which is a question.
//!    The price is that "Stop it, you're making me laugh" counts too.
//! 3. **Revocation phrases** inside any clause (`english`, `spanish`): a keyword in
//!    a longer sentence counts only when it forms a request to stop contacting: a stop
//!    verb with a messaging verb or noun ("stop texting me", "stop the calls"), a
//!    negative command with a messaging verb and me/us ("don't text me anymore", "no me
//!    escriban más"), removal from a list ("take me off your list", "bórrenme de la
//!    lista"), and set phrases ("leave me alone", "unsubscribe", "opt out", "dar de
//!    baja", "no more messages", "dejen de escribirme").
//!
//! The trade-off is deliberate: recall on short messages, where a keyword almost always
//! means what it says and a missed opt-out is a legal exposure; precision on long ones,
//! where "stop by tomorrow", "the end of the month" or "I quit my job" are everyday
//! English. So a phrase does not count when it is negated ("don't stop texting me", "no
//! dejen de escribirme"; but "if you don't stop texting me" does), when the speaker is
//! the one stopping ("I'll stop by"), when it names someone else ("stop calling my
//! wife"), or when a time qualifies it ("don't call me before 5", "no me llamen
//! mañana"), which asks for a later contact, not for none.
//!
//! Cost: one `String` for the normalised text and one `Vec` of word slices per message;
//! every pattern is a `match` on one word followed by a few look-ups in short lists.

mod english;
mod keywords;
mod normalise;
mod spanish;
mod words;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use keywords::{KeywordMessage, keyword_message};
pub use normalise::fold_letter;
pub(crate) use normalise::{CLAUSE_END, QUESTION_END, normalise};

/// What an inbound message asks for, as far as consent goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundIntent {
    /// The sender revoked consent. `evidence` is what matched, in normalised form
    /// ("stop", "opt out", "stop texting me", "no me escriban"), to be stored with the
    /// opt-out as the record of why it was taken.
    OptOut { evidence: String },
    /// HELP, INFO or AYUDA on its own: the sender wants the program's help message.
    Help,
    /// START or UNSTOP on its own: the sender re-subscribes after an opt-out.
    OptIn,
    /// Anything else: an ordinary message for the agent.
    None,
}

impl InboundIntent {
    /// The evidence of an opt-out, `None` for every other intent.
    pub fn opt_out_evidence(&self) -> Option<&str> {
        match self {
            InboundIntent::OptOut { evidence } => Some(evidence),
            _ => None,
        }
    }
}

/// Classifies one inbound message; see the module documentation for the rules.
pub fn classify(text: &str) -> InboundIntent {
    let normalised = normalise(text);
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();

    match keyword_message(&words) {
        Some(KeywordMessage::OptOut(span)) => return opt_out(&words[span]),
        Some(KeywordMessage::OptIn) => return InboundIntent::OptIn,
        Some(KeywordMessage::Help) => return InboundIntent::Help,
        None => {}
    }

    for (clause, is_question) in clauses(&words) {
        if !is_question && let Some(KeywordMessage::OptOut(span)) = keyword_message(clause) {
            return opt_out(&clause[span]);
        }
        if let Some(span) = revocation(clause) {
            return opt_out(&clause[span]);
        }
    }
    InboundIntent::None
}

/// Whether `text` revokes consent: `classify(text)` is an opt-out.
pub fn is_opt_out(text: &str) -> bool {
    matches!(classify(text), InboundIntent::OptOut { .. })
}

fn opt_out(evidence: &[&str]) -> InboundIntent {
    InboundIntent::OptOut {
        evidence: evidence.join(" "),
    }
}

/// The clauses of a normalised message, without their end markers, each with whether it
/// ended in a question mark.
fn clauses<'w, 'a>(words: &'w [&'a str]) -> impl Iterator<Item = (&'w [&'a str], bool)> {
    let mut rest = words;
    std::iter::from_fn(move || {
        while !rest.is_empty() {
            let end = rest
                .iter()
                .position(|w| *w == CLAUSE_END || *w == QUESTION_END);
            let (clause, is_question) = match end {
                Some(end) => {
                    let clause = &rest[..end];
                    let is_question = rest[end] == QUESTION_END;
                    rest = &rest[end + 1..];
                    (clause, is_question)
                }
                None => (std::mem::take(&mut rest), false),
            };
            if !clause.is_empty() {
                return Some((clause, is_question));
            }
        }
        None
    })
}

/// The first revocation phrase in a clause, as a range of its words.
fn revocation(clause: &[&str]) -> Option<std::ops::Range<usize>> {
    (0..clause.len()).find_map(|start| {
        english::revocation_at(clause, start)
            .or_else(|| spanish::revocation_at(clause, start))
            .map(|end| start..end)
    })
}
