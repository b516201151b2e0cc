//! Spanish revocation phrases inside a clause, over accent-folded words ("más" is
//! "mas", "bórrenme" is "borrenme"). Negative commands use the subjunctive ("no me
//! *escriban*"), which the indicative of a question or a report does not share ("¿por
//! qué no me *llamas*?", "no me *llamaron*"), so the verb form itself keeps them apart.

use super::keywords::DAR;
use super::words::{Negation, is_any, negated, only_closing, skip_any, word, word_before};

const SPANISH: Negation = Negation {
    words: &["no", "nunca", "jamas", "tampoco", "ni"],
    conditions: &["si"],
    breaks: &["pero", "y", "o", "entonces", "asi"],
};

/// Negative commands to the sender's company (ustedes): "no (me) *escriban*". Plural
/// forms do not collide with anything, so "me" is optional: "no llamen".
const COMMANDS_PLURAL: &[&str] = &[
    "escriban",
    "envien",
    "manden",
    "llamen",
    "contacten",
    "molesten",
    "marquen",
    "texteen",
];

/// The singular forms (tú, usted), which read like the preterite once the accent is
/// gone ("no envié" is "I didn't send"), so they need "me"/"nos": "no me *llames*".
const COMMANDS_SINGULAR: &[&str] = &[
    "escribas",
    "escriba",
    "envies",
    "envie",
    "mandes",
    "mande",
    "llames",
    "llame",
    "contactes",
    "contacte",
    "molestes",
    "moleste",
    "marques",
    "marque",
    "textees",
];

/// "dejen de *escribir*", "no me vuelvan a *llamar*".
const INFINITIVES: &[&str] = &[
    "escribir",
    "llamar",
    "contactar",
    "enviar",
    "mandar",
    "molestar",
    "textear",
    "marcar",
];

/// "dejen de *escribirme*": the infinitive with the sender as its object.
const INFINITIVES_TO_ME: &[&str] = &[
    "escribirme",
    "escribirnos",
    "llamarme",
    "llamarnos",
    "contactarme",
    "contactarnos",
    "enviarme",
    "enviarnos",
    "mandarme",
    "mandarnos",
    "molestarme",
    "molestarnos",
    "textearme",
    "marcarme",
];

/// What is being sent: "no quiero recibir más *mensajes*".
const MESSAGES: &[&str] = &[
    "mensajes",
    "mensaje",
    "textos",
    "sms",
    "llamadas",
    "correos",
    "emails",
    "whatsapps",
    "notificaciones",
    "promociones",
    "ofertas",
    "publicidad",
    "anuncios",
    "spam",
    "avisos",
    "recordatorios",
];

/// "bórrenme de la *lista*".
const LISTS: &[&str] = &[
    "lista",
    "listas",
    "base",
    "datos",
    "contactos",
    "sistema",
    "registro",
    "registros",
    "difusion",
    "directorio",
    "campana",
    "grupo",
    "programa",
    "mensajes",
    "envios",
];

/// Words between a verb and [`MESSAGES`] or [`LISTS`]: "*sus* listas", "*más* mensajes".
const DETERMINERS: &[&str] = &[
    "la", "las", "el", "los", "su", "sus", "tu", "tus", "esta", "este", "estas", "estos", "esa",
    "ese", "esas", "esos", "mas", "ningun", "ninguna", "ningunos", "ningunas", "otro", "otros",
    "otra", "otras", "todos", "todas", "tipo", "de",
];

/// "quiero que no me escriban", "no *quiero* recibir".
const WANT: &[&str] = &[
    "quiero",
    "queremos",
    "deseo",
    "deseamos",
    "necesito",
    "necesitamos",
];

/// Removal commands with the sender attached: "bórrenme", "sácame".
const REMOVE_ME: &[&str] = &[
    "borrenme",
    "borrame",
    "borreme",
    "borrarme",
    "borrennos",
    "eliminenme",
    "eliminame",
    "elimineme",
    "eliminarme",
    "quitenme",
    "quitame",
    "quiteme",
    "quitarme",
    "saquenme",
    "sacame",
    "saqueme",
    "sacarme",
];

/// Removal verbs on their own: "me *borran* de la lista", "*borren* mi número".
const REMOVE: &[&str] = &[
    "borren", "borran", "borra", "borre", "borrar", "eliminen", "eliminan", "elimina", "elimine",
    "eliminar", "quiten", "quitan", "quita", "quite", "quitar", "saquen", "sacan", "saca", "saque",
    "sacar",
];

/// "dejen de escribirme", "para de llamarme". "dejar"/"parar" are infinitives ("pueden
/// dejar de llamarme") and need the sender attached; "voy a dejar de escribir" is the
/// speaker stopping.
const STOP_DOING: &[&str] = &[
    "dejen", "deja", "deje", "dejes", "dejad", "paren", "para", "pare",
];
const STOP_DOING_INFINITIVE: &[&str] = &["dejar", "parar"];

/// "paren los mensajes", "basta de llamadas". Not "para", which is also "for".
const STOP_THE_MESSAGES: &[&str] = &[
    "paren",
    "pare",
    "basta",
    "detengan",
    "detenga",
    "deten",
    "cancelen",
    "cancele",
    "cancela",
    "suspendan",
    "suspenda",
    "suspende",
];

const LEAVE_ME: &[&str] = &["dejenme", "dejame", "dejeme", "dejennos", "dejanos"];

/// Picks the patterns that may start at word `i` and answers where the first match ends.
pub(super) fn revocation_at(c: &[&str], i: usize) -> Option<usize> {
    let w = c[i];
    match w {
        "no" | "nunca" | "jamas" => no_me_escriban(c, i).or_else(|| no_mas_mensajes(c, i)),
        "me" | "nos" => me_borren(c, i),
        _ if is_any(w, STOP_DOING) || is_any(w, STOP_DOING_INFINITIVE) => {
            dejen_de(c, i).or_else(|| paren_los_mensajes(c, i))
        }
        _ if is_any(w, STOP_THE_MESSAGES) => paren_los_mensajes(c, i),
        _ if is_any(w, REMOVE_ME) => borrenme(c, i),
        _ if is_any(w, REMOVE) => borren_mi_numero(c, i),
        _ if is_any(w, DAR) => de_baja(c, i),
        _ if is_any(w, LEAVE_ME) => {
            (word(c, i + 1) == "en" && word(c, i + 2) == "paz").then_some(i + 3)
        }
        _ => None,
    }
}

/// Whether the word at `i` limits the request in time: "no me llamen *antes* de las 5",
/// "*por* la mañana" (but "por favor"), "*en* horario" (but "en este número").
fn later(c: &[&str], i: usize) -> bool {
    const LATER: &[&str] = &[
        "antes", "despues", "hasta", "hoy", "manana", "ahorita", "ahora", "todavia", "aun",
        "luego", "tarde", "durante", "entre",
    ];
    match word(c, i) {
        "por" => !is_any(word(c, i + 1), &["favor", "fa"]),
        "en" | "a" => !is_any(word(c, i + 1), &["este", "mi", "ningun", "ninguna"]),
        w => is_any(w, LATER),
    }
}

/// "no me escriban más", "no me envíen más mensajes", "no me contacten", "no llamen",
/// "nunca más me escriban", "no me vuelvan a llamar", "no quiero que me escriban".
fn no_me_escriban(c: &[&str], i: usize) -> Option<usize> {
    let mut j = i + 1 + usize::from(word(c, i + 1) == "mas");
    if is_any(word(c, j), WANT) && word(c, j + 1) == "que" {
        j += 2;
    }
    let to_me = is_any(word(c, j), &["me", "nos"]);
    j += usize::from(to_me);
    let verb = word(c, j);
    if is_any(verb, &["vuelvan", "vuelvas", "vuelva"]) && word(c, j + 1) == "a" {
        let infinitive = word(c, j + 2);
        if !is_any(infinitive, INFINITIVES) && !is_any(infinitive, INFINITIVES_TO_ME) {
            return None;
        }
        j += 3;
    } else if is_any(verb, COMMANDS_PLURAL) || (to_me && is_any(verb, COMMANDS_SINGULAR)) {
        j += 1;
    } else {
        return None;
    }
    (!later(c, j)).then_some(j)
}

/// "no quiero recibir más mensajes", "no más mensajes", "no quiero más llamadas". Not
/// "si no quiere recibir mensajes, responda BAJA", a quote of our own footer.
fn no_mas_mensajes(c: &[&str], i: usize) -> Option<usize> {
    if c[i] != "no" || word_before(c, i, 1) == "si" {
        return None;
    }
    let mut k = i + 1 + usize::from(is_any(word(c, i + 1), WANT));
    while is_any(word(c, k), &["recibir", "ya"]) || is_any(word(c, k), DETERMINERS) {
        k += 1;
    }
    is_any(word(c, k), MESSAGES).then_some(k + 1)
}

/// "dejen de escribirme", "deja de mandarme mensajes", "paren de llamar", "pueden dejar
/// de llamarme". Not "no dejen de escribirme".
fn dejen_de(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &SPANISH) {
        return None;
    }
    let j = i + 1 + usize::from(word(c, i + 1) == "ya");
    if word(c, j) != "de" {
        return None;
    }
    let infinitive = word(c, j + 1);
    let command = is_any(c[i], STOP_DOING);
    (is_any(infinitive, INFINITIVES_TO_ME) || (command && is_any(infinitive, INFINITIVES)))
        .then_some(j + 2)
}

/// "paren los mensajes", "basta de llamadas", "cancelen las promociones".
fn paren_los_mensajes(c: &[&str], i: usize) -> Option<usize> {
    if c[i] == "para" || is_any(c[i], STOP_DOING_INFINITIVE) || negated(c, i, &SPANISH) {
        return None;
    }
    let j = skip_any(c, i + 1, &["ya", "de", "con"]);
    let k = skip_any(c, j, DETERMINERS);
    is_any(word(c, k), MESSAGES).then_some(k + 1)
}

/// Where a list ends after "de" at `i`: "de la lista", "de su base de datos".
fn from_list(c: &[&str], i: usize) -> Option<usize> {
    if !is_any(word(c, i), &["de", "del"]) {
        return None;
    }
    let k = skip_any(c, i + 1, DETERMINERS);
    is_any(word(c, k), LISTS).then_some(k + 1)
}

/// "bórrenme de la lista", "sáquenme de su base de datos", "bórrenme". Not "sácame de
/// aquí".
fn borrenme(c: &[&str], i: usize) -> Option<usize> {
    if negated(c, i, &SPANISH) {
        return None;
    }
    if let Some(end) = from_list(c, i + 1) {
        return Some(end);
    }
    let erase = c[i].starts_with("borr") || c[i].starts_with("elimin");
    (erase && only_closing(c, i + 1)).then_some(i + 1)
}

/// "me borran de la lista?", "quiero que me eliminen de su lista".
fn me_borren(c: &[&str], i: usize) -> Option<usize> {
    if !is_any(word(c, i + 1), REMOVE) || negated(c, i, &SPANISH) {
        return None;
    }
    from_list(c, i + 2)
}

/// "borren mi número", "eliminen mis datos", "saquen este número de su lista".
fn borren_mi_numero(c: &[&str], i: usize) -> Option<usize> {
    const DETAILS: &[&str] = &[
        "numero",
        "telefono",
        "datos",
        "contacto",
        "celular",
        "informacion",
        "correo",
    ];
    let mine = is_any(
        word(c, i + 1),
        &["mi", "mis", "este", "nuestro", "nuestros"],
    );
    (mine && is_any(word(c, i + 2), DETAILS) && !negated(c, i, &SPANISH)).then_some(i + 3)
}

/// "quiero darme de baja", "denme de baja", "¿cómo me doy de baja?". Not "no quiero
/// darme de baja".
fn de_baja(c: &[&str], i: usize) -> Option<usize> {
    let baja = word(c, i + 1) == "de" && word(c, i + 2) == "baja";
    (baja && !negated(c, i, &SPANISH)).then_some(i + 3)
}
