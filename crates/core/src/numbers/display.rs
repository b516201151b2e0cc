//! The form a person reads a number in: "(415) 555-2671" inside the North American
//! Numbering Plan, the international format elsewhere ("+44 7911 123456").

use phonenumber::Mode;

use crate::phone::E164;

/// The display form of a number, used when a phone number is stored without one.
pub fn display_number(number: &E164) -> String {
    let digits = number.as_str();
    if let Some(national) = digits.strip_prefix("+1")
        && national.len() == 10
    {
        return format!(
            "({}) {}-{}",
            &national[..3],
            &national[3..6],
            &national[6..]
        );
    }
    number
        .parsed()
        .format()
        .mode(Mode::International)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanp_numbers_read_as_area_code_exchange_line() {
        let number = E164::parse("+14155552671").unwrap();
        assert_eq!(display_number(&number), "(415) 555-2671");
    }

    #[test]
    fn other_numbers_use_the_international_format() {
        let number = E164::parse("+447911123456").unwrap();
        assert_eq!(display_number(&number), "+44 7911 123456");
    }
}
