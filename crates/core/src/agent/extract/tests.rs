//! Tables of real-looking answers over realistic option sets, with the option each must
//! give (or none), plus the OPEN cases.

use super::*;

fn closed(key: &str, labels: &[&str]) -> AttributeDefinition {
    let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    AttributeDefinition::create(key, key, AttributeKind::Closed, &labels, false).unwrap()
}

/// The label of the option `text` gives, or `None`.
fn label_of(text: &str, definition: &AttributeDefinition) -> Option<String> {
    match extract_answer(text, definition)? {
        AttributeValue::Closed(ids) => {
            assert_eq!(ids.len(), 1, "one option per answer");
            let option = definition.options.iter().find(|o| o.id == ids[0]).unwrap();
            Some(option.label.clone())
        }
        AttributeValue::Open(text) => panic!("a CLOSED attribute got open text {text:?}"),
    }
}

const TIMELINE: &[&str] = &["Now", "1-3 months", "3-6 months", "Just looking"];
const FINANCING: &[&str] = &["Cash", "Mortgage", "Not sure"];
const YES_NO: &[&str] = &["Yes", "No"];
const SI_NO: &[&str] = &["Sí", "No", "No sé"];
const INTEREST: &[&str] = &["Very interested", "Interested", "Not interested"];

/// `(options, message, expected label)`.
const TABLE: &[(&[&str], &str, Option<&str>)] = &[
    // Labels as whole words, any case, accents and punctuation.
    (TIMELINE, "now", Some("Now")),
    (TIMELINE, "NOW!!", Some("Now")),
    (TIMELINE, "1-3 months", Some("1-3 months")),
    (TIMELINE, "probably 3-6 months", Some("3-6 months")),
    (TIMELINE, "3 - 6 months I think", Some("3-6 months")),
    (TIMELINE, "just looking for now", None),
    (TIMELINE, "Just looking, thanks", Some("Just looking")),
    (TIMELINE, "not now, maybe in 3-6 months", Some("3-6 months")),
    (TIMELINE, "now or in 3-6 months", None),
    (TIMELINE, "nowhere near ready", None),
    (TIMELINE, "I don't know yet", None),
    // Numbers, only when the message is just a number.
    (TIMELINE, "2", Some("1-3 months")),
    (TIMELINE, "2.", Some("1-3 months")),
    (TIMELINE, "#4", Some("Just looking")),
    (TIMELINE, "option 3", Some("3-6 months")),
    (TIMELINE, "Opción 1", Some("Now")),
    (TIMELINE, "5", None),
    (TIMELINE, "0", None),
    (TIMELINE, "2 or 3", None),
    (TIMELINE, "99999999999999999999999", None),
    (FINANCING, "cash", Some("Cash")),
    (FINANCING, "We'll pay CASH.", Some("Cash")),
    (FINANCING, "mortgage", Some("Mortgage")),
    (FINANCING, "not sure", Some("Not sure")),
    (FINANCING, "Not sure yet", Some("Not sure")),
    (FINANCING, "not cash, mortgage", Some("Mortgage")),
    (FINANCING, "cash or a mortgage", None),
    (FINANCING, "mortgages are expensive", None),
    (FINANCING, "", None),
    (FINANCING, " ?! ", None),
    // Yes/no in English, with synonyms.
    (YES_NO, "yes", Some("Yes")),
    (YES_NO, "Yeah", Some("Yes")),
    (YES_NO, "yep!", Some("Yes")),
    (YES_NO, "sure", Some("Yes")),
    (YES_NO, "Of course", Some("Yes")),
    (YES_NO, "ok", Some("Yes")),
    (YES_NO, "SI", Some("Yes")),
    (YES_NO, "Claro", Some("Yes")),
    (YES_NO, "correct", Some("Yes")),
    (YES_NO, "no", Some("No")),
    (YES_NO, "Nope", Some("No")),
    (YES_NO, "nah", Some("No")),
    (YES_NO, "not really", Some("No")),
    (YES_NO, "of course not", Some("No")),
    (YES_NO, "not sure", None),
    (YES_NO, "yes no", None),
    (YES_NO, "1", Some("Yes")),
    (YES_NO, "maybe", None),
    // Yes/no in Spanish, with an option that contains "no".
    (SI_NO, "SI", Some("Sí")),
    (SI_NO, "sí", Some("Sí")),
    (SI_NO, "Claro que sí", Some("Sí")),
    (SI_NO, "yes", Some("Sí")),
    (SI_NO, "por supuesto", Some("Sí")),
    (SI_NO, "no", Some("No")),
    (SI_NO, "claro que no", Some("No")),
    (SI_NO, "No sé", Some("No sé")),
    (SI_NO, "no se la verdad", Some("No sé")),
    // The longest label wins.
    (INTEREST, "very interested", Some("Very interested")),
    (INTEREST, "Interested", Some("Interested")),
    (INTEREST, "not interested", Some("Not interested")),
    (INTEREST, "VERY INTERESTED!!!", Some("Very interested")),
];

#[test]
fn closed_answers_follow_the_table() {
    let mut failures = Vec::new();
    for (labels, message, expected) in TABLE {
        let definition = closed("attribute", labels);
        let got = label_of(message, &definition);
        if got.as_deref() != *expected {
            failures.push(format!(
                "{message:?} over {labels:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn open_answers_are_the_trimmed_text_cut_at_the_limit() {
    let notes =
        AttributeDefinition::create("notes", "Notes", AttributeKind::Open, &[], false).unwrap();
    let open = |text: &str| extract_answer(text, &notes);
    assert_eq!(
        open("  a 3 bedroom house near the beach \n"),
        Some(AttributeValue::Open(
            "a 3 bedroom house near the beach".into()
        ))
    );
    assert_eq!(open("   \n "), None);
    assert_eq!(open(""), None);

    // Multi-byte characters are never split: the cut counts characters.
    let long = "é".repeat(MAX_OPEN_VALUE_CHARS + 10);
    let Some(AttributeValue::Open(cut)) = open(&long) else {
        panic!("expected an open value");
    };
    assert_eq!(cut.chars().count(), MAX_OPEN_VALUE_CHARS);
    assert!(cut.chars().all(|c| c == 'é'));

    let exact = "x".repeat(MAX_OPEN_VALUE_CHARS);
    assert_eq!(open(&exact), Some(AttributeValue::Open(exact.clone())));
}
