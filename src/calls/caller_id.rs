//! Who called, as the provider said it: a phone number, or what was sent instead.

use serde::{Serialize, Serializer};

use crate::phone::PhoneNumber;

/// The caller a provider named. A number is kept in E.164, so a returning caller is recognised
/// however the provider wrote it; anything else (`anonymous`, a SIP address) is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerId {
    Number(PhoneNumber),
    Withheld(String),
}

impl CallerId {
    pub fn parse(raw: &str) -> Self {
        PhoneNumber::parse(raw).map_or_else(|_| Self::Withheld(raw.to_string()), Self::Number)
    }

    /// The number a person can ring back, if the provider gave one.
    pub fn number(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Number(number) => Some(number),
            Self::Withheld(_) => None,
        }
    }

    /// As stored and shown: the E.164 number, or the text the provider sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Number(number) => number.as_str(),
            Self::Withheld(raw) => raw,
        }
    }
}

impl Serialize for CallerId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_kept_in_e164_and_anything_else_as_sent() {
        let number = CallerId::parse("8 (910) 123-45-67");
        assert_eq!((number.as_str(), number.number().is_some()), ("+79101234567", true));
        let anonymous = CallerId::parse("anonymous");
        assert_eq!((anonymous.as_str(), anonymous.number()), ("anonymous", None));
    }
}
