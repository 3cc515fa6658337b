//! Caller phone numbers: parsed into one canonical form so a returning caller is recognised,
//! and masked wherever they could reach a log.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

/// A phone number in E.164 form (`+79101234567`). Russian national forms (`8 910 123-45-67`,
/// `9101234567`) are normalised to `+7`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("'{0}' is not a phone number (expected +7XXXXXXXXXX or another E.164 number)")]
pub struct InvalidPhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let trimmed = raw.trim();
        let plus = trimmed.starts_with('+');
        let mut digits = String::with_capacity(16);
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(InvalidPhoneNumber(raw.to_string())),
            }
        }
        let e164 = match (plus, digits.len(), digits.as_bytes().first()) {
            (false, 11, Some(b'8' | b'7')) => format!("+7{}", &digits[1..]),
            (false, 10, Some(b'9' | b'4' | b'8' | b'3')) => format!("+7{digits}"),
            (true, 8..=15, Some(first)) if *first != b'0' => format!("+{digits}"),
            _ => return Err(InvalidPhoneNumber(raw.to_string())),
        };
        Ok(Self(e164))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form for logs: `+7910***4567`.
    pub fn masked(&self) -> String {
        mask_number(&self.0)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masked, so a number printed with `{:?}` in a log line gives nothing away.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Documented as it is serialized: the E.164 string.
impl utoipa::PartialSchema for PhoneNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A phone number in E.164 form."))
            .examples([serde_json::json!("+79101234567")])
            .into()
    }
}

impl utoipa::ToSchema for PhoneNumber {}

/// Keeps the country and operator code and the last four digits.
fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let head = if chars.first() == Some(&'+') { 5 } else { 4 };
    if chars.len() <= head + 4 {
        return "***".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    let start: String = chars[..head].iter().collect();
    format!("{start}***{tail}")
}

/// Masks anything in free text (a URL, a query string) that looks like a phone number: a run of
/// ten or more digits, optionally after `+` or its URL encoding `%2B`.
pub fn mask_phones_in(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start >= 10 {
            let buf = out.get_or_insert_with(String::new);
            buf.push_str(&text[copied..start]);
            buf.push_str(&mask_number(&text[start..i]));
            copied = i;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_forms_normalise_to_e164() {
        for raw in ["+7 (910) 123-45-67", "89101234567", "79101234567", "9101234567"] {
            assert_eq!(PhoneNumber::parse(raw).unwrap().as_str(), "+79101234567", "{raw}");
        }
        assert_eq!(PhoneNumber::parse("+14158675309").unwrap().as_str(), "+14158675309");
        for bad in ["", "12", "call me", "+0123456789", "8910123456789012"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking_follows_the_spec_example() {
        assert_eq!(PhoneNumber::parse("+79104564567").unwrap().masked(), "+7910***4567");
        assert_eq!(format!("{:?}", PhoneNumber::parse("+79104564567").unwrap()), "PhoneNumber(+7910***4567)");
        assert_eq!(mask_phones_in("/api/tickets?q=%2B79101234567&limit=10"), "/api/tickets?q=%2B7910***4567&limit=10");
        assert_eq!(mask_phones_in("/api/tickets/100001"), "/api/tickets/100001");
    }
}
