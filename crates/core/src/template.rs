//! Message templates: a body with ordered placeholders `{{1}}`…`{{n}}`, checked when the
//! template is created and filled when a message is sent.

use crate::validation::FieldError;

crate::wire_enum! {
    /// Whether the provider lets the template be sent.
    pub enum TemplateStatus {
        Approved = "APPROVED",
        Pending = "PENDING",
        Rejected = "REJECTED",
    }
}

/// A template body whose placeholders are known to be `{{1}}`…`{{n}}`, each at least once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateBody {
    text: String,
    placeholders: usize,
}

/// Upper bound on placeholders: WhatsApp's own limit is far below this.
const MAX_PLACEHOLDERS: usize = 100;

impl TemplateBody {
    /// Parses `text`, naming `field` in the error when a placeholder is malformed or the
    /// numbers are not 1..n without gaps.
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        if text.trim().is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        let mut seen = Vec::new();
        for piece in Segments::new(text) {
            match piece {
                Segment::Literal(_) => {}
                Segment::Placeholder(number) => {
                    if number == 0 || number > MAX_PLACEHOLDERS {
                        return Err(FieldError::new(
                            field,
                            format!(
                                "placeholder {{{{{number}}}}} is out of range: numbers run from 1 to at most {MAX_PLACEHOLDERS}"
                            ),
                        ));
                    }
                    seen.push(number);
                }
                Segment::Malformed(at) => {
                    return Err(FieldError::new(
                        field,
                        format!(
                            "malformed placeholder at character {at}: write {{{{1}}}}, {{{{2}}}}, …"
                        ),
                    ));
                }
            }
        }
        seen.sort_unstable();
        seen.dedup();
        if let Some(gap) = (1..=seen.len()).find(|n| seen[n - 1] != *n) {
            return Err(FieldError::new(
                field,
                format!(
                    "placeholder {{{{{gap}}}}} is missing: placeholders must be numbered 1 to n without gaps"
                ),
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            placeholders: seen.len(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How many ordered parameters a send must give.
    pub fn placeholders(&self) -> usize {
        self.placeholders
    }

    /// Fills the placeholders; `params[0]` replaces `{{1}}`. The caller checks the count.
    pub fn render(&self, params: &[String]) -> Result<String, FieldError> {
        if params.len() != self.placeholders {
            return Err(FieldError::new(
                "orderedParams",
                format!(
                    "the template has {} placeholder(s) but {} parameter(s) were given",
                    self.placeholders,
                    params.len()
                ),
            ));
        }
        let mut out =
            String::with_capacity(self.text.len() + params.iter().map(String::len).sum::<usize>());
        for piece in Segments::new(&self.text) {
            match piece {
                Segment::Literal(text) => out.push_str(text),
                Segment::Placeholder(number) => out.push_str(&params[number - 1]),
                Segment::Malformed(_) => unreachable!("checked by parse"),
            }
        }
        Ok(out)
    }
}

enum Segment<'a> {
    Literal(&'a str),
    Placeholder(usize),
    Malformed(usize),
}

/// Splits a body into literal text and `{{n}}` placeholders. A `{{` that does not open a
/// well-formed placeholder is malformed; lone braces are literal.
struct Segments<'a> {
    rest: &'a str,
    offset: usize,
}

impl<'a> Segments<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text,
            offset: 0,
        }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        match self.rest.find("{{") {
            Some(0) => {
                let inner_end = self.rest[2..].find("}}");
                let parsed = inner_end.and_then(|end| {
                    let inner = self.rest[2..2 + end].trim();
                    (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| inner.parse::<usize>().ok())
                        .flatten()
                        .map(|number| (number, end + 4))
                });
                match parsed {
                    Some((number, consumed)) => {
                        self.rest = &self.rest[consumed..];
                        self.offset += consumed;
                        Some(Segment::Placeholder(number))
                    }
                    None => {
                        let at = self.offset;
                        self.rest = "";
                        Some(Segment::Malformed(at))
                    }
                }
            }
            Some(start) => {
                let literal = &self.rest[..start];
                self.rest = &self.rest[start..];
                self.offset += start;
                Some(Segment::Literal(literal))
            }
            None => {
                let literal = self.rest;
                self.rest = "";
                Some(Segment::Literal(literal))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn counts_distinct_placeholders_and_renders_in_order() {
        let body = TemplateBody::parse("body", "Hi {{1}}, {{2}} here. Bye {{1}}!").unwrap();
        assert_eq!(body.placeholders(), 2);
        assert_eq!(
            body.render(&params(&["Ana", "Leo"])).unwrap(),
            "Hi Ana, Leo here. Bye Ana!"
        );
    }

    #[test]
    fn body_without_placeholders_takes_no_params() {
        let body = TemplateBody::parse("body", "Hello {there}").unwrap();
        assert_eq!(body.placeholders(), 0);
        assert_eq!(body.render(&[]).unwrap(), "Hello {there}");
        assert_eq!(
            body.render(&params(&["x"])).unwrap_err().field,
            "orderedParams"
        );
    }

    #[test]
    fn rejects_gaps_zero_and_malformed() {
        assert!(
            TemplateBody::parse("body", "{{1}} {{3}}")
                .unwrap_err()
                .message
                .contains("{{2}} is missing")
        );
        assert!(TemplateBody::parse("body", "{{0}}").is_err());
        assert!(
            TemplateBody::parse("body", "Hi {{name}}")
                .unwrap_err()
                .message
                .contains("malformed")
        );
        assert!(TemplateBody::parse("body", "Hi {{1").is_err());
        assert!(TemplateBody::parse("body", "  ").is_err());
    }

    #[test]
    fn wrong_param_count_is_named() {
        let body = TemplateBody::parse("body", "{{1}} {{2}}").unwrap();
        let error = body.render(&params(&["a"])).unwrap_err();
        assert!(error.message.contains("2 placeholder(s) but 1"));
    }

    proptest::proptest! {
        #[test]
        fn rendering_never_panics_and_keeps_params(values in proptest::collection::vec("[a-z{}]{0,6}", 1..5)) {
            let text: String = (1..=values.len()).map(|n| format!("<{{{{{n}}}}}>")).collect();
            let body = TemplateBody::parse("body", &text).unwrap();
            let rendered = body.render(&values).unwrap();
            let expected: String = values.iter().map(|v| format!("<{v}>")).collect();
            proptest::prop_assert_eq!(rendered, expected);
        }
    }
}
