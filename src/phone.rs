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

    /// The digits every spelling of the number ends with: a Russian number's ten after +7 (it is
    /// also written `8 910...`, `7 910...` or `910...`), another's all after `+`.
    pub fn significant_digits(&self) -> &str {
        match self.0.strip_prefix("+7") {
            Some(rest) if rest.len() == 10 => rest,
            _ => &self.0[1..],
        }
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

/// A separator people type between the digits of a number, raw or URL-encoded (`+` is a space
/// in a query string), and its length in the text.
fn separator_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b' ' | b'-' | b'.' | b'(' | b')' | b'+' => Some(1),
        b'%' => {
            let code = bytes.get(i + 1..i + 3)?;
            matches!(code, b"20" | b"28" | b"29" | b"2D" | b"2d" | b"2E" | b"2e").then_some(3)
        }
        _ => None,
    }
}

/// A leading plus, raw or URL-encoded, right before a digit.
fn plus_at(bytes: &[u8], i: usize) -> Option<usize> {
    let len = match bytes.get(i..i + 3) {
        Some(b"%2B" | b"%2b") => 3,
        _ if bytes.get(i) == Some(&b'+') => 1,
        _ => return None,
    };
    bytes.get(i + len).is_some_and(u8::is_ascii_digit).then_some(len)
}

/// Masks anything in free text (a URL, a query string) that looks like a phone number, however
/// it is spelled: ten or more digits, optionally after `+` (or `%2B`), with the separators
/// people type between them (`+7 910 123-45-67`, `8(910)1234567`, also URL-encoded). A number
/// that parses is masked in its E.164 form (`+7910***4567`), anything else by its digits.
pub fn mask_phones_in(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let plus = plus_at(bytes, i);
        if plus.is_none() && !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut number = String::new();
        if let Some(len) = plus {
            number.push('+');
            i += len;
        }
        // Digits, and up to two separators between two digits.
        let mut end;
        loop {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                number.push(bytes[i] as char);
                i += 1;
            }
            end = i;
            let (mut next, mut separators) = (i, 0);
            while separators < 2 {
                let Some(len) = separator_at(bytes, next) else { break };
                next += len;
                separators += 1;
            }
            if separators > 0 && bytes.get(next).is_some_and(u8::is_ascii_digit) {
                i = next;
            } else {
                break;
            }
        }
        let digits = number.trim_start_matches('+').len();
        if digits >= 10 {
            let masked = PhoneNumber::parse(&number).map_or_else(|_| mask_number(&number), |p| p.masked());
            let buf = out.get_or_insert_with(String::new);
            buf.push_str(&text[copied..start]);
            buf.push_str(&masked);
            copied = end;
        }
        i = end.max(start + 1);
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[copied..]);
            Cow::Owned(buf)
        }
    }
}

/// Masks every spelling of one number in free text, and nothing else: what an erasure writes
/// over a caller's number wherever it was kept (a note, a webhook's body, an e-mail's copy). For a
/// Russian number that is its ten digits after +7, with or without `+7`, `7` or `8` before them and
/// with the separators people type (`8 (910) 123-45-67`, URL-encoded too); for another, its digits
/// after `+`. The digits may stand inside a longer run (two numbers typed without a break): a
/// number kept only because it touched other digits would still be there in clear.
pub fn mask_number_in<'a>(text: &'a str, number: &PhoneNumber) -> Cow<'a, str> {
    let core = number.significant_digits().as_bytes();
    let russian = number.as_str().len() == core.len() + 2;
    let bytes = text.as_bytes();
    // Byte ranges to replace, in order.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A run of digits joined by at most two separators at a time, each digit with its place.
        let mut run: Vec<(u8, usize)> = Vec::new();
        let mut j = i;
        loop {
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                run.push((bytes[j], j));
                j += 1;
            }
            let (mut next, mut separators) = (j, 0);
            while separators < 2 {
                let Some(len) = separator_at(bytes, next) else { break };
                next += len;
                separators += 1;
            }
            if separators > 0 && bytes.get(next).is_some_and(u8::is_ascii_digit) {
                j = next;
            } else {
                break;
            }
        }
        let digits: Vec<u8> = run.iter().map(|(d, _)| *d).collect();
        let mut k = 0;
        while k + core.len() <= digits.len() {
            if &digits[k..k + core.len()] != core {
                k += 1;
                continue;
            }
            let first = if russian && k > 0 && matches!(digits[k - 1], b'7' | b'8') { k - 1 } else { k };
            let mut start = run[first].1;
            if start >= 1 && bytes[start - 1] == b'+' {
                start -= 1;
            } else if start >= 3 && bytes[start - 3..start].eq_ignore_ascii_case(b"%2B") {
                start -= 3;
            }
            spans.push((start, run[k + core.len() - 1].1 + 1));
            k += core.len();
        }
        i = j.max(i + 1);
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let masked = number.masked();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        out.push_str(&text[copied..start]);
        out.push_str(&masked);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
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
        assert_eq!(mask_phones_in("/api/tickets?q=%2B79101234567&limit=10"), "/api/tickets?q=+7910***4567&limit=10");
        assert_eq!(mask_phones_in("/api/tickets/100001"), "/api/tickets/100001");
    }

    #[test]
    fn every_spelling_of_a_number_is_masked() {
        for spelled in [
            "+79101234567",
            "+7 910 123-45-67",
            "+7 (910) 123-45-67",
            "8(910)1234567",
            "8 910 123 45 67",
            "89101234567",
            "9101234567",
            "%2B7%20910%20123-45-67",
            "%2B7+910+123-45-67",
            "8%28910%291234567",
            "+7.910.123.45.67",
        ] {
            let text = format!("/api/tickets?q={spelled}&limit=10");
            assert_eq!(mask_phones_in(&text), "/api/tickets?q=+7910***4567&limit=10", "{spelled}");
        }
        assert_eq!(mask_phones_in("from +44 20 7946 0958 too"), "from +4420***0958 too");
        // Short numbers stay: ticket numbers, postcodes, dates, limits.
        for kept in ["/api/tickets/100001", "?postcode=152610&limit=50", "?from=2026-01-15", "1-2-3"] {
            assert_eq!(mask_phones_in(kept), kept);
        }
    }

    #[test]
    fn one_number_is_masked_in_every_spelling_and_others_are_left() {
        let number = PhoneNumber::parse("+79101234567").unwrap();
        for spelled in [
            "+79101234567",
            "79101234567",
            "89101234567",
            "9101234567",
            "8 (910) 123-45-67",
            "+7 910 123 45 67",
            "%2B79101234567",
            "%2B7+910+123-45-67",
        ] {
            let text = format!("позвоните мне: {spelled}, спасибо");
            assert_eq!(mask_number_in(&text, &number), "позвоните мне: +7910***4567, спасибо", "{spelled}");
        }
        // Two numbers typed together: both spellings go; another number stays.
        assert_eq!(mask_number_in("89101234567 89101234567", &number), "+7910***4567 +7910***4567");
        assert_eq!(
            mask_number_in("From=%2B79101234567&To=%2B78005050115", &number),
            "From=+7910***4567&To=%2B78005050115"
        );
        assert_eq!(mask_number_in("соседка: +79109876543", &number), "соседка: +79109876543");
        assert!(matches!(mask_number_in("заявка 100001", &number), Cow::Borrowed(_)));
        let foreign = PhoneNumber::parse("+14158675309").unwrap();
        assert_eq!(mask_number_in("call +1 415 867 5309", &foreign), "call +1415***5309");
    }
}
