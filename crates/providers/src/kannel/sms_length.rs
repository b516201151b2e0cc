//! How many SMS parts a text needs, and in which coding. Kannel splits a long text into
//! at most `max-messages` parts and drops the rest without telling the sender (its
//! answer is still `0: Accepted`), so the adapter measures first and refuses a text
//! that would be cut.
//!
//! A text made only of the GSM 03.38 alphabet goes as 7-bit: 160 characters in one SMS,
//! 153 per part when concatenated (the UDH takes the rest); characters of the extension
//! table (`^{}\[~]|€` and form feed) take two. Anything else goes as UCS-2: 70 UTF-16
//! units in one SMS, 67 per part; an emoji outside the BMP takes two units.

/// The GSM 03.38 default alphabet (one septet each). ESC (0x1B) is left out: it only
/// introduces extension characters and is never text by itself.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table (two septets each: ESC and the character).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{0C}";

/// The coding Kannel is asked to use (`coding` in sendsms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `coding=0`: the GSM 7-bit alphabet.
    Gsm7,
    /// `coding=2`: UCS-2 (UTF-16 on the air).
    Ucs2,
}

/// The measured size of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SmsLength {
    pub coding: Coding,
    /// Septets for GSM-7, UTF-16 units for UCS-2.
    pub units: usize,
    pub parts: usize,
}

pub(crate) fn measure(text: &str) -> SmsLength {
    let septets = text.chars().try_fold(0usize, |total, c| {
        if GSM7_BASIC.contains(c) {
            Some(total + 1)
        } else if GSM7_EXTENSION.contains(c) {
            Some(total + 2)
        } else {
            None
        }
    });
    match septets {
        Some(units) => SmsLength {
            coding: Coding::Gsm7,
            units,
            parts: parts(units, 160, 153),
        },
        None => {
            let units = text.encode_utf16().count();
            SmsLength {
                coding: Coding::Ucs2,
                units,
                parts: parts(units, 70, 67),
            }
        }
    }
}

fn parts(units: usize, single: usize, per_part: usize) -> usize {
    if units <= single {
        1
    } else {
        units.div_ceil(per_part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_gsm7_with_160_then_153_per_part() {
        assert_eq!(
            measure("Hello Ana, are you free at 5?").coding,
            Coding::Gsm7
        );
        assert_eq!(measure(&"a".repeat(160)).parts, 1);
        assert_eq!(measure(&"a".repeat(161)).parts, 2);
        assert_eq!(measure(&"a".repeat(306)).parts, 2);
        assert_eq!(measure(&"a".repeat(307)).parts, 3);
        assert_eq!(measure(&"a".repeat(459)).parts, 3);
        assert_eq!(measure(&"a".repeat(460)).parts, 4);
        assert_eq!(measure("").parts, 1);
    }

    #[test]
    fn extension_characters_count_twice() {
        let text = "€".repeat(80);
        assert_eq!(
            measure(&text),
            SmsLength {
                coding: Coding::Gsm7,
                units: 160,
                parts: 1
            }
        );
        assert_eq!(measure(&format!("{text}[")).parts, 2);
    }

    #[test]
    fn other_characters_switch_to_ucs2_and_count_utf16_units() {
        assert_eq!(measure("¿Qué tal, Señor?").coding, Coding::Gsm7);
        assert_eq!(measure("Olá, tudo bem?").coding, Coding::Ucs2);
        assert_eq!(
            measure(&"ж".repeat(70)),
            SmsLength {
                coding: Coding::Ucs2,
                units: 70,
                parts: 1
            }
        );
        assert_eq!(measure(&"ж".repeat(71)).parts, 2);
        assert_eq!(measure("🙂").units, 2);
        assert_eq!(measure(&"🙂".repeat(67)).parts, 2);
    }
}
