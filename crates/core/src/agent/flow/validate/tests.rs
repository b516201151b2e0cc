//! One test per rule of `FlowScript::validate`, over the script and attributes of the
//! flow tests.

use crate::agent::flow::tests::{definitions, script};
use crate::agent::flow::{FlowQuestion, FlowScript};

#[test]
fn the_defaults_fill_a_minimal_script() {
    let minimal: FlowScript = serde_json::from_value(serde_json::json!({"questions": []})).unwrap();
    assert_eq!(minimal.max_retries, 2);
    assert_eq!(minimal.retry_prefix, "Sorry, I did not understand.");
    assert!(minimal.validate(&definitions()).is_ok());
    assert!(script().validate(&definitions()).is_ok());
}

fn error_fields(script: &FlowScript) -> Vec<(String, String)> {
    script
        .validate(&definitions())
        .unwrap_err()
        .into_vec()
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

#[test]
fn validation_names_every_bad_field() {
    let script: FlowScript = serde_json::from_value(serde_json::json!({
        "questions": [
            {"attribute": "timeline", "text": "When?"},
            {"attribute": "colour", "text": "Colour?"},
            {"attribute": "timeline", "text": "When again?"},
            {"attribute": "notes", "text": "   "},
        ],
        "qualification": [
            {"attribute": "timeline", "anyOf": ["NOW", "soon"]},
            {"attribute": "size", "anyOf": ["big"]},
            {"attribute": "notes", "anyOf": [""]},
        ],
        "qualifiedMessage": "",
        "retryPrefix": "x".repeat(1001),
        "maxRetries": 11,
    }))
    .unwrap();
    let fields: Vec<String> = error_fields(&script).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "questions[1].attribute",
            "questions[2].attribute",
            "questions[3].text",
            "qualification[0].anyOf[1]",
            "qualification[1].attribute",
            "qualification[2].anyOf[0]",
            "qualifiedMessage",
            "retryPrefix",
            "maxRetries",
        ]
    );
    let messages = error_fields(&script);
    assert_eq!(
        messages[3].1,
        "'soon' is not an option of 'timeline'; its options are 'Now', '1-3 months', '3-6 months', 'Just looking'"
    );
    assert_eq!(
        messages[1].1,
        "'timeline' is already asked by questions[0]; ask each attribute once"
    );
}

#[test]
fn validation_caps_the_number_of_questions_and_text_lengths() {
    let many: Vec<_> = (0..51)
        .map(|n| serde_json::json!({"attribute": "notes", "text": format!("Q{n}")}))
        .collect();
    let too_many: FlowScript =
        serde_json::from_value(serde_json::json!({"questions": many})).unwrap();
    let errors = error_fields(&too_many);
    assert_eq!(
        errors[0],
        ("questions".to_owned(), "at most 50 questions".to_owned())
    );

    let long = FlowScript {
        questions: vec![FlowQuestion {
            attribute: "notes".into(),
            text: "q".repeat(1001),
        }],
        ..script()
    };
    assert_eq!(error_fields(&long)[0].0, "questions[0].text");
    let fits = FlowScript {
        questions: vec![FlowQuestion {
            attribute: "notes".into(),
            text: "q".repeat(1000),
        }],
        max_retries: 10,
        ..script()
    };
    assert!(fits.validate(&definitions()).is_ok());
}
