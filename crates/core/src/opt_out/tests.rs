//! The table: real-looking replies in English and Spanish with the intent each must get,
//! opt-outs and the everyday sentences that only look like them.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    OptOut,
    Help,
    OptIn,
    None,
}

use Expected::{Help, None as Nothing, OptIn, OptOut};

fn kind(intent: &InboundIntent) -> Expected {
    match intent {
        InboundIntent::OptOut { .. } => OptOut,
        InboundIntent::Help => Help,
        InboundIntent::OptIn => OptIn,
        InboundIntent::None => Nothing,
    }
}

const TABLE: &[(&str, Expected)] = &[
    // Keywords alone, any case, any punctuation.
    ("STOP", OptOut),
    ("stop", OptOut),
    ("Stop.", OptOut),
    ("stop!!", OptOut),
    ("  STOP  ", OptOut),
    ("🛑 STOP 🛑", OptOut),
    ("*STOP*", OptOut),
    ("STOPPPP", OptOut),
    ("Stooop", OptOut),
    ("STOPALL", OptOut),
    ("Unsubscribe", OptOut),
    ("UNSUB", OptOut),
    ("cancel", OptOut),
    ("END", OptOut),
    ("Quit", OptOut),
    ("REVOKE", OptOut),
    ("OPT OUT", OptOut),
    ("optout", OptOut),
    ("Opt-Out", OptOut),
    ("STOP?", OptOut),
    ("ＳＴＯＰ", OptOut),
    // Keywords with courtesy or emphasis.
    ("STOP please", OptOut),
    ("please stop", OptOut),
    ("Please stop!", OptOut),
    ("STOP STOP", OptOut),
    ("stop stop stop", OptOut),
    ("stop it", OptOut),
    ("Stop it now", OptOut),
    ("stop now thank you", OptOut),
    ("Stop, please.", OptOut),
    ("stop all", OptOut),
    ("STOP ALL", OptOut),
    ("just stop", OptOut),
    ("ok stop", OptOut),
    ("end this", OptOut),
    ("Quit it", OptOut),
    ("cancel please", OptOut),
    ("opt out please", OptOut),
    ("unsubscribe thanks", OptOut),
    ("pleaseee stop", OptOut),
    ("No stop", OptOut),
    ("STOP HELP", OptOut),
    ("START STOP", OptOut),
    // A keyword clause in a longer message.
    ("Who is this? STOP", OptOut),
    ("No, stop.", OptOut),
    ("Not interested. Stop", OptOut),
    ("Stop. I'm not interested", OptOut),
    ("Thanks but no thanks. STOP", OptOut),
    ("Re: stop", OptOut),
    // English revocations.
    ("please stop texting me", OptOut),
    ("stop messaging me", OptOut),
    ("stop calling me", OptOut),
    ("Stop sending me these messages", OptOut),
    ("quit texting me!!", OptOut),
    ("stop texting", OptOut),
    ("Stop contacting me", OptOut),
    ("stop spamming me", OptOut),
    ("stop bothering me", OptOut),
    ("stop text me", OptOut),
    ("stop reaching out to me", OptOut),
    ("please stop the texts", OptOut),
    ("stop with the calls already", OptOut),
    ("cancel all messages", OptOut),
    ("don't text me anymore", OptOut),
    ("Do not contact me again", OptOut),
    ("Don't call me", OptOut),
    ("dont message me again please", OptOut),
    ("never text this number again", OptOut),
    ("Please don't ever call me again", OptOut),
    ("can you not text me", OptOut),
    ("I said don't text me", OptOut),
    ("don't text me at all", OptOut),
    ("don't reach out again", OptOut),
    ("if you don't stop texting me I'll report you", OptOut),
    ("remove me from your list", OptOut),
    ("take me off your list", OptOut),
    ("Take me off your mailing list please", OptOut),
    ("please remove me", OptOut),
    ("take me off", OptOut),
    ("take me out of your database", OptOut),
    ("delete my number", OptOut),
    ("lose my number", OptOut),
    ("remove my phone number", OptOut),
    ("unsubscribe me", OptOut),
    ("how do I unsubscribe?", OptOut),
    ("leave me alone", OptOut),
    ("Just leave me alone!", OptOut),
    ("I want to opt out", OptOut),
    ("opt me out", OptOut),
    ("I'd like to opt out of these texts", OptOut),
    ("no more messages", OptOut),
    ("No more texts please", OptOut),
    ("no texts please", OptOut),
    ("enough with the texts", OptOut),
    ("I don't want any more texts", OptOut),
    ("I do not wish to receive these messages", OptOut),
    ("we no longer want your calls", OptOut),
    ("I revoke my consent", OptOut),
    ("put me on your do not call list", OptOut),
    ("DNC", OptOut),
    ("cease and desist", OptOut),
    (
        "I'm not interested, please stop calling me every day",
        OptOut,
    ),
    ("stop calling and texting me", OptOut),
    ("stop texting or calling", OptOut),
    ("I'm opting out", OptOut),
    ("I already opted out", OptOut),
    ("stop please no more", OptOut),
    ("Please remove this number from your list", OptOut),
    ("Add me to the DNC", OptOut),
    ("Who are you? how did you get my number? stop", OptOut),
    ("#stop", OptOut),
    // Spanish keywords.
    ("ALTO", OptOut),
    ("¡Alto!", OptOut),
    ("alto por favor", OptOut),
    ("Alto ya", OptOut),
    ("PARAR", OptOut),
    ("BAJA", OptOut),
    ("baja gracias", OptOut),
    ("dar de baja", OptOut),
    ("Darme de baja", OptOut),
    ("denme de baja por favor", OptOut),
    // Spanish revocations.
    ("no me escriban más", OptOut),
    ("No me envíen más mensajes", OptOut),
    ("dejen de escribirme", OptOut),
    ("No me contacten", OptOut),
    ("Bórrenme de la lista", OptOut),
    ("quiero darme de baja", OptOut),
    ("no quiero recibir más mensajes", OptOut),
    ("¿Cómo me doy de baja?", OptOut),
    ("no me llames más", OptOut),
    ("Ya no me manden mensajes por favor", OptOut),
    ("nunca más me escriban", OptOut),
    ("no me vuelvan a llamar", OptOut),
    ("no molesten", OptOut),
    ("quiero que me den de baja", OptOut),
    ("Para de escribirme", OptOut),
    ("quiero que no me escriban", OptOut),
    ("deja de mandarme mensajes", OptOut),
    ("pueden dejar de llamarme?", OptOut),
    ("no más mensajes", OptOut),
    ("basta de llamadas", OptOut),
    ("paren los mensajes", OptOut),
    ("sáquenme de su lista", OptOut),
    ("¿me borran de la lista?", OptOut),
    ("borren mi número", OptOut),
    ("déjenme en paz", OptOut),
    ("No me interesa, no me escriban más", OptOut),
    ("NO ME ESCRIBAN MAS", OptOut),
    // Help and opt-in.
    ("HELP", Help),
    ("help?", Help),
    ("Info", Help),
    ("INFO please", Help),
    ("Ayuda", Help),
    ("ayuda por favor", Help),
    ("START", OptIn),
    ("start!", OptIn),
    ("Start please", OptIn),
    ("UNSTOP", OptIn),
    ("help start", Help),
    // Not an opt-out: the keyword in ordinary use.
    ("don't stop", Nothing),
    ("Do not stop", Nothing),
    ("please don't stop texting me", Nothing),
    ("stop by tomorrow at 3?", Nothing),
    ("can you stop by the office", Nothing),
    ("I can't stop thinking about it", Nothing),
    ("when does the sale end?", Nothing),
    ("the end of the month works", Nothing),
    ("I quit my job last week", Nothing),
    ("cancel my appointment? no, move it to friday", Nothing),
    ("Cancel? No, move it to Friday", Nothing),
    ("bus stop on 5th street", Nothing),
    ("non-stop flights", Nothing),
    ("stopwatch", Nothing),
    ("backend", Nothing),
    ("I stopped by yesterday", Nothing),
    ("I'll stop by at noon", Nothing),
    ("I'll stop texting you now", Nothing),
    ("stop calling my wife", Nothing),
    ("the price is too high, can you go lower", Nothing),
    ("Why don't you call me?", Nothing),
    ("You never call me anymore", Nothing),
    ("Don't call me before 5pm", Nothing),
    ("don't text me until Monday", Nothing),
    ("please don't unsubscribe me", Nothing),
    ("Can I opt out of the extended warranty?", Nothing),
    ("Take me off the schedule for Friday", Nothing),
    ("drop me a line next week", Nothing),
    ("drop me off at the station", Nothing),
    ("I don't want to miss your messages", Nothing),
    ("If you don't want messages, reply STOP", Nothing),
    ("no more questions, sounds good", Nothing),
    ("Call me tomorrow", Nothing),
    ("text me the details", Nothing),
    ("Yes I'm interested", Nothing),
    ("No thanks", Nothing),
    ("no", Nothing),
    ("Who is this?", Nothing),
    ("start over", Nothing),
    ("I need help with my order", Nothing),
    ("Help me pick a plan", Nothing),
    ("thanks", Nothing),
    ("", Nothing),
    ("?!", Nothing),
    ("👍", Nothing),
    ("no cancel", Nothing),
    ("that's the end of it", Nothing),
    ("I never opted out", Nothing),
    ("I didn't unsubscribe", Nothing),
    ("are you on the DNC list?", Nothing),
    ("I will stop calling", Nothing),
    ("I need to stop calling him", Nothing),
    ("Stop calling before 9am", Nothing),
    ("remove me from the meeting", Nothing),
    ("don't leave me alone", Nothing),
    ("end the call at 5", Nothing),
    ("stop sending the brochure by mail", Nothing),
    // Spanish, not an opt-out.
    ("el alto de la casa", Nothing),
    ("baja california", Nothing),
    ("el precio es muy alto", Nothing),
    ("no pares", Nothing),
    ("no parar", Nothing),
    ("no dejen de escribirme", Nothing),
    ("no quiero darme de baja", Nothing),
    ("no me llamen antes de las 5", Nothing),
    ("No me llames ahora, estoy manejando", Nothing),
    ("¿Por qué no me llamas?", Nothing),
    ("no me llamaron", Nothing),
    ("perdón, no envié nada", Nothing),
    ("Sácame de aquí", Nothing),
    ("no recibí los mensajes", Nothing),
    ("Me di de baja del gimnasio", Nothing),
    ("deja de preocuparte", Nothing),
    ("no me interesa por ahora", Nothing),
    ("Llámame mañana", Nothing),
    ("voy a dejar de escribir", Nothing),
    (
        "si no quiere recibir mensajes responda con la palabra",
        Nothing,
    ),
    ("gracias por los mensajes", Nothing),
    ("Gracias, para los mensajes", Nothing),
    ("no quiero que dejen de escribirme", Nothing),
];

#[test]
fn every_message_of_the_table_gets_its_intent() {
    let wrong: Vec<_> = TABLE
        .iter()
        .filter_map(|&(text, expected)| {
            let got = classify(text);
            (kind(&got) != expected)
                .then(|| format!("{text:?}: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_table_is_large_and_balanced() {
    let not_opt_out = TABLE.iter().filter(|(_, e)| *e != OptOut).count();
    assert!(TABLE.len() >= 120, "{} rows", TABLE.len());
    assert!(
        not_opt_out >= 40 + 11,
        "{not_opt_out} rows that are not opt-outs"
    );
}

#[test]
fn is_opt_out_agrees_with_classify() {
    for &(text, expected) in TABLE {
        assert_eq!(is_opt_out(text), expected == OptOut, "{text:?}");
    }
}

/// Accents, and upper or lower case, never change the intent.
#[test]
fn accents_and_case_do_not_matter() {
    fn strip(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                'á' => 'a',
                'é' => 'e',
                'í' => 'i',
                'ó' => 'o',
                'ú' | 'ü' => 'u',
                'ñ' => 'n',
                _ => c,
            })
            .collect()
    }
    for &(text, expected) in TABLE {
        for variant in [strip(text), text.to_uppercase(), text.to_lowercase()] {
            assert_eq!(kind(&classify(&variant)), expected, "{variant:?}");
        }
    }
}

#[test]
fn evidence_is_what_matched() {
    let cases = [
        ("STOP!!!", "stop"),
        ("please stop", "stop"),
        ("Opt-Out please", "opt out"),
        ("Darme de baja", "darme de baja"),
        ("Who is this? Alto", "alto"),
        ("Hi. Please stop texting me, thanks", "stop texting me"),
        ("Do not contact me again", "do not contact me"),
        (
            "Take me off your mailing list",
            "take me off your mailing list",
        ),
        ("No me envíen más mensajes", "no me envien"),
        ("Bórrenme de la lista", "borrenme de la lista"),
        ("Quiero darme de baja", "darme de baja"),
        ("how do I unsubscribe?", "unsubscribe"),
    ];
    for (text, evidence) in cases {
        assert_eq!(
            classify(text).opt_out_evidence(),
            Some(evidence),
            "{text:?}"
        );
    }
    assert_eq!(classify("HELP").opt_out_evidence(), None);
}
