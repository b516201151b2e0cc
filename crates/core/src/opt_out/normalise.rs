//! The normal form every rule reads: lower-case words of letters and digits separated
//! by single spaces, with `.` and `?` as words of their own where a clause ended.

/// The word that ends a clause: `. , ! ; : … ¡ ¿` or a line break.
pub(crate) const CLAUSE_END: &str = ".";
/// The word that ends a question.
pub(crate) const QUESTION_END: &str = "?";

/// What separates two words; a stronger separator absorbs a weaker one, so "?!" ends a
/// question and ". " ends a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Space,
    Clause,
    Question,
}

/// Normalises `text` for matching; see the module documentation of `opt_out`.
pub(crate) fn normalise(text: &str) -> String {
    let mut normaliser = Normaliser {
        out: String::with_capacity(text.len() + 4),
        gap: Gap::None,
        repeat: Repeat::default(),
    };
    for c in text.chars() {
        // ASCII — nearly every character of a reply — skips the Unicode tables.
        if c.is_ascii() {
            match c.to_ascii_lowercase() {
                lower @ ('a'..='z' | '0'..='9') => normaliser.push_word_char(lower),
                '\'' | '`' => {}
                other => normaliser.push_gap_char(other),
            }
        } else {
            for lower in c.to_lowercase() {
                normaliser.push(fold_letter(lower));
            }
        }
    }
    normaliser.finish()
}

struct Normaliser {
    out: String,
    /// The strongest separator seen since the last word character.
    gap: Gap,
    repeat: Repeat,
}

impl Normaliser {
    /// Takes one lower-case, folded character.
    fn push(&mut self, c: char) {
        if is_silent(c) {
            return;
        }
        if c.is_alphanumeric() {
            self.push_word_char(c);
        } else {
            self.push_gap_char(c);
        }
    }

    fn push_gap_char(&mut self, c: char) {
        self.gap = self.gap.max(gap_of(c));
    }

    fn push_word_char(&mut self, c: char) {
        if self.gap != Gap::None {
            push_gap(&mut self.out, self.gap, true);
            self.gap = Gap::None;
            self.repeat = Repeat::default();
        }
        self.repeat.push(&mut self.out, c);
    }

    fn finish(mut self) -> String {
        if self.gap >= Gap::Clause {
            push_gap(&mut self.out, self.gap, false);
        }
        self.out
    }
}

/// Writes the separator before the next word, or after the last one; a clause mark is a
/// word of its own.
fn push_gap(out: &mut String, gap: Gap, word_follows: bool) {
    // A gap before the first word separates nothing.
    if out.is_empty() {
        return;
    }
    out.push(' ');
    let mark = match gap {
        Gap::Clause => CLAUSE_END,
        Gap::Question => QUESTION_END,
        Gap::None | Gap::Space => return,
    };
    out.push_str(mark);
    if word_follows {
        out.push(' ');
    }
}

/// Collapses a letter typed three times or more to one: "stooop" and "stopppp" are
/// "stop", "pleaseee" is "please"; a doubled letter ("all", "llamen") is kept. Digits
/// are never collapsed ("1000" stays).
#[derive(Default)]
struct Repeat {
    last: Option<char>,
    count: u32,
}

impl Repeat {
    fn push(&mut self, out: &mut String, c: char) {
        if c.is_alphabetic() && self.last == Some(c) {
            self.count += 1;
            if self.count == 3 {
                out.pop();
            }
            if self.count >= 3 {
                return;
            }
        } else {
            self.last = Some(c);
            self.count = 1;
        }
        out.push(c);
    }
}

/// Characters that vanish without separating words: apostrophes ("don't" is "dont"),
/// combining accents (a decomposed "é" is "e"), zero-width characters and soft hyphens.
fn is_silent(c: char) -> bool {
    matches!(
        c,
        '\'' | '’' | '‘' | '`' | '´' | 'ʼ' | '\u{00ad}' | '\u{200b}'..='\u{200d}' | '\u{2060}'
            | '\u{feff}' | '\u{0300}'..='\u{036f}'
    )
}

/// A small hand-written accent fold: enough for Spanish and the Latin letters people
/// type by accident, plus full-width ASCII. Applied after lower-casing.
pub fn fold_letter(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        _ => c,
    }
}

fn gap_of(c: char) -> Gap {
    match c {
        '?' => Gap::Question,
        '.' | ',' | '!' | ';' | ':' | '…' | '¡' | '¿' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => {
            Gap::Clause
        }
        _ => Gap::Space,
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn words_are_lower_case_and_folded() {
        assert_eq!(
            normalise("  Bórrenme   de la LISTA "),
            "borrenme de la lista"
        );
        assert_eq!(normalise("NO ME ESCRIBAN MÁS"), "no me escriban mas");
        assert_eq!(normalise("Ñandú"), "nandu");
        assert_eq!(normalise("e\u{301}l"), "el");
        assert_eq!(normalise("ＳＴＯＰ"), "stop");
    }

    #[test]
    fn apostrophes_join_and_hyphens_split() {
        assert_eq!(normalise("Don't text me"), "dont text me");
        assert_eq!(normalise("I’m OUT"), "im out");
        assert_eq!(normalise("opt-out"), "opt out");
    }

    #[test]
    fn emoji_and_symbols_are_spaces() {
        assert_eq!(normalise("🛑STOP🛑"), "stop");
        assert_eq!(normalise("stop 👍🏽 please"), "stop please");
        assert_eq!(normalise("(stop) *please*"), "stop please");
    }

    #[test]
    fn sentence_punctuation_ends_clauses() {
        assert_eq!(normalise("Who is this?? STOP!!!"), "who is this ? stop .");
        assert_eq!(normalise("no, stop"), "no . stop");
        assert_eq!(normalise("¿Me borran? Gracias"), "me borran ? gracias");
        assert_eq!(normalise("stop?!"), "stop ?");
        assert_eq!(normalise("...stop"), "stop");
        assert_eq!(normalise("line one\nline two"), "line one . line two");
    }

    #[test]
    fn long_letter_runs_collapse() {
        assert_eq!(normalise("STOPPPP"), "stop");
        assert_eq!(normalise("stooooop pleaseee"), "stop please");
        assert_eq!(normalise("all llamen"), "all llamen");
        assert_eq!(normalise("1000"), "1000");
    }

    #[test]
    fn nothing_but_punctuation_is_empty() {
        assert_eq!(normalise(""), "");
        assert_eq!(normalise(" ?! ... 🙂 "), "");
    }
}
