//! Reading a lead's answer to one question into the value of a custom attribute.
//!
//! An OPEN attribute takes the message as it is: trimmed, cut to
//! [`MAX_OPEN_VALUE_CHARS`] at a character boundary. The flow asks one question at a
//! time, so whatever the lead wrote next is the answer; judging it is the advisor's job.
//!
//! A CLOSED attribute needs exactly one of its options. Message and labels go through
//! the opt-out normaliser (lower case, accents folded, punctuation out), so "SI" finds
//! "Sí" and "1-3 months!" finds "1-3 months". Then:
//!
//! 1. **Phrases**: every option label found as whole words in the message, and for an
//!    option labelled exactly Yes/Sí or No, the usual ways of saying it ("yeah", "of
//!    course", "claro"; "nope", "not really", "claro que no"). A phrase inside a longer
//!    one that also matched gives way to it, so "very interested" is Very interested
//!    and not also Interested, and "not sure" is Not sure and not "sure". A phrase
//!    right after a negation ("not cash, mortgage") does not count.
//! 2. **A number**, only when no phrase matched and the message is nothing but the
//!    option's 1-based position: "2", "2.", "#2", "option 2", "opción 2".
//!
//! Phrases of two different options make the answer ambiguous: `None`, and the flow
//! asks again, which is cheaper than storing a guess an advisor then trusts. The
//! trade-off is that a chatty answer naming two options ("not now, maybe in 3-6
//! months": Now is negated, so this one works; "now or in 3-6 months" does not) gets
//! asked again. Synonyms apply only to options labelled exactly Yes, Sí or No, so an
//! option "No sé" or "Yes, with a mortgage" is matched by its label alone.

use crate::custom_attribute::{
    AttributeDefinition, AttributeKind, AttributeOption, AttributeValue, MAX_OPEN_VALUE_CHARS,
};
use crate::opt_out::{CLAUSE_END, QUESTION_END, normalise};

/// The value `text` gives `definition`, or `None` when it gives none (an empty
/// message, or no single option for a CLOSED attribute).
pub fn extract_answer(text: &str, definition: &AttributeDefinition) -> Option<AttributeValue> {
    match definition.kind {
        AttributeKind::Open => open_answer(text),
        AttributeKind::Closed => {
            closed_answer(text, &definition.options).map(|o| AttributeValue::Closed(vec![o.id]))
        }
    }
}

fn open_answer(text: &str) -> Option<AttributeValue> {
    let trimmed = text.trim();
    let cut = match trimmed.char_indices().nth(MAX_OPEN_VALUE_CHARS) {
        Some((at, _)) => trimmed[..at].trim_end(),
        None => trimmed,
    };
    (!cut.is_empty()).then(|| AttributeValue::Open(cut.to_owned()))
}

/// Ways of saying yes, for an option labelled Yes or Sí.
const YES: &[&str] = &[
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sure",
    "of course",
    "absolutely",
    "definitely",
    "correct",
    "exactly",
    "ok",
    "okay",
    "i think so",
    "si",
    "sip",
    "claro",
    "correcto",
    "exacto",
    "por supuesto",
    "dale",
];

/// Ways of saying no, for an option labelled No; some contain a yes ("of course not")
/// and win over it by being longer.
const NO: &[&str] = &[
    "no",
    "nope",
    "nah",
    "not really",
    "not at all",
    "not yet",
    "of course not",
    "negative",
    "nop",
    "para nada",
    "claro que no",
    "por supuesto que no",
];

/// Words that negate the phrase right after them.
const NEGATIONS: &[&str] = &["not", "dont", "no", "never", "nor", "ni", "sin", "nunca"];

/// Words that may come before the number in a number-only answer.
const NUMBER_PREFIX: &[&str] = &["option", "opcion", "number", "numero", "choice", "la", "el"];

/// One phrase found in the message: the option it names, and where.
#[derive(Debug, Clone, Copy)]
struct Found {
    option: usize,
    start: usize,
    end: usize,
}

fn closed_answer<'o>(text: &str, options: &'o [AttributeOption]) -> Option<&'o AttributeOption> {
    let normalised = normalise(text);
    let message = words(&normalised);
    if message.is_empty() {
        return None;
    }
    let labels: Vec<String> = options.iter().map(|o| normalise(&o.label)).collect();
    let mut found = Vec::new();
    for (option, label) in labels.iter().enumerate() {
        let label = words(label);
        find_phrase(&message, &label, option, &mut found);
        let synonyms = match label.as_slice() {
            ["yes"] | ["si"] => YES,
            ["no"] => NO,
            _ => &[],
        };
        for synonym in synonyms {
            let synonym: Vec<&str> = synonym.split(' ').collect();
            find_phrase(&message, &synonym, option, &mut found);
        }
    }
    match single_option(&message, &found) {
        Chosen::One(option) => Some(&options[option]),
        Chosen::Several => None,
        Chosen::Nothing => number_answer(&message, options.len()).map(|i| &options[i]),
    }
}

/// The words of a normalised text, clause marks kept so a phrase cannot span two
/// clauses.
fn words(normalised: &str) -> Vec<&str> {
    normalised.split(' ').filter(|w| !w.is_empty()).collect()
}

/// Records every whole-word occurrence of `phrase` (clause marks ignored in it).
fn find_phrase(message: &[&str], phrase: &[&str], option: usize, found: &mut Vec<Found>) {
    let phrase: Vec<&str> = phrase
        .iter()
        .copied()
        .filter(|w| *w != CLAUSE_END && *w != QUESTION_END)
        .collect();
    if phrase.is_empty() || phrase.len() > message.len() {
        return;
    }
    for start in 0..=message.len() - phrase.len() {
        if message[start..].starts_with(&phrase) {
            found.push(Found {
                option,
                start,
                end: start + phrase.len(),
            });
        }
    }
}

enum Chosen {
    One(usize),
    Several,
    Nothing,
}

/// The one option the phrases name, after longer phrases absorb the shorter ones
/// inside them and negated phrases drop out.
fn single_option(message: &[&str], found: &[Found]) -> Chosen {
    let mut chosen = None;
    for f in found {
        let inside_longer = found.iter().any(|other| {
            other.start <= f.start
                && f.end <= other.end
                && other.end - other.start > f.end - f.start
        });
        let negated = f.start > 0 && NEGATIONS.contains(&message[f.start - 1]);
        if inside_longer || negated {
            continue;
        }
        match chosen {
            None => chosen = Some(f.option),
            Some(option) if option != f.option => return Chosen::Several,
            Some(_) => {}
        }
    }
    chosen.map_or(Chosen::Nothing, Chosen::One)
}

/// The 0-based option of a message that is only a 1-based position.
fn number_answer(message: &[&str], options: usize) -> Option<usize> {
    let mut rest = message
        .iter()
        .copied()
        .filter(|w| *w != CLAUSE_END && *w != QUESTION_END);
    let mut number = rest.next()?;
    if NUMBER_PREFIX.contains(&number) {
        number = rest.next()?;
    }
    if rest.next().is_some() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let position: usize = number.parse().ok()?;
    (1..=options).contains(&position).then(|| position - 1)
}

#[cfg(test)]
mod tests;
