//! The table: replies in English and Spanish with the evidence each must give, requests
//! for a person and the everyday sentences that only mention one.

use super::asks_for_person;

/// `(message, evidence)`; `None` when the message must not count.
const TABLE: &[(&str, Option<&str>)] = &[
    // Bare requests, any case and punctuation.
    ("agent", Some("agent")),
    ("AGENT!!!", Some("agent")),
    ("Agent please", Some("agent")),
    ("human", Some("human")),
    ("Human?", Some("human")),
    ("ok human", Some("human")),
    ("Representative", Some("representative")),
    ("operator", Some("operator")),
    ("a real person", Some("real person")),
    ("Real person please", Some("real person")),
    ("Advisor", Some("advisor")),
    ("adviser pls", Some("adviser")),
    ("a person", Some("person")),
    ("Asesor", Some("asesor")),
    ("asesora por favor", Some("asesora")),
    ("Humano", Some("humano")),
    ("AGENTE", Some("agente")),
    ("Representante por favor", Some("representante")),
    ("una persona", Some("persona")),
    ("Sí, un asesor", Some("asesor")),
    ("customer service", Some("customer service")),
    // A request verb and a person.
    (
        "Can I speak with a human?",
        Some("can i speak with a human"),
    ),
    (
        "I want to talk to a real person",
        Some("i want to talk to a real person"),
    ),
    ("Let me talk to someone", Some("let me talk to someone")),
    ("talk to someone", Some("talk to someone")),
    ("I need an agent", Some("i need an agent")),
    (
        "Hi, I'd like to talk to a representative please",
        Some("id like to talk to a representative"),
    ),
    (
        "Can you connect me to one of your sales agents?",
        Some("connect me to one of your sales agents"),
    ),
    (
        "put me through to an operator",
        Some("put me through to an operator"),
    ),
    ("is there a human I can talk to?", Some("there a human")),
    ("Can I have an agent", Some("can i have an agent")),
    (
        "I'd rather speak to an advisor",
        Some("speak to an advisor"),
    ),
    (
        "Let me speak to your supervisor",
        Some("let me speak to your supervisor"),
    ),
    ("can someone call me?", Some("can someone call me")),
    (
        "I'm tired of this bot. I need a human",
        Some("i need a human"),
    ),
    (
        "quiero hablar con un asesor",
        Some("quiero hablar con un asesor"),
    ),
    ("Pásame con una persona", Some("pasame con una persona")),
    (
        "¿Puedo hablar con alguien real?",
        Some("puedo hablar con alguien"),
    ),
    ("alguien real", Some("alguien real")),
    ("Necesito un agente", Some("necesito un agente")),
    (
        "Me pueden comunicar con un representante?",
        Some("me pueden comunicar con un representante"),
    ),
    ("que me llame un asesor", Some("me llame un asesor")),
    (
        "No quiero hablar con el bot, quiero hablar con un humano",
        Some("quiero hablar con un humano"),
    ),
    ("No I want a person", Some("i want a person")),
    // Set phrases.
    ("Is this a real person?", Some("real person")),
    ("hablo con una persona real?", Some("persona real")),
    ("I want a live agent now", Some("i want a live agent")),
    // Mentions, not requests.
    ("I am a real estate agent", None),
    ("my insurance agent already called", None),
    ("the agent told me the price is 300k", None),
    ("human resources", None),
    ("I work in human resources", None),
    ("in person", None),
    ("I will go in person", None),
    ("we prefer to meet in person", None),
    ("I'd like a personal loan", None),
    ("personal loan", None),
    ("Can I talk to my agent first?", None),
    ("I need a real estate agent", None),
    ("I don't need an agent", None),
    ("I don't want to talk to a person", None),
    ("We already have an agent", None),
    ("I have an agent", None),
    ("I'm a real person lol", None),
    ("are you a bot?", None),
    ("are you human?", None),
    ("Someone called me yesterday", None),
    ("I like the agent you sent", None),
    ("there is an agent in my family", None),
    ("what is the agent's phone number", None),
    ("ya hablé con un asesor", None),
    ("no quiero hablar con un asesor", None),
    ("mi agente de seguros ya me llamó", None),
    ("recursos humanos", None),
    ("quiero verlo en persona", None),
    ("soy agente inmobiliario", None),
    ("Talk to you later", None),
    ("I need to talk to my wife", None),
    ("1-3 months", None),
    ("Yes", None),
    ("", None),
];

#[test]
fn the_table_holds() {
    let mut failures = Vec::new();
    for (message, expected) in TABLE {
        let got = asks_for_person(message);
        if got.as_deref() != *expected {
            failures.push(format!("{message:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_has_both_kinds() {
    let requests = TABLE.iter().filter(|(_, e)| e.is_some()).count();
    let mentions = TABLE.len() - requests;
    assert!(requests >= 20 && mentions >= 20, "{requests} / {mentions}");
}
