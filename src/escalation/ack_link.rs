//! Acknowledgement links in e-mails: signed, expiring tokens naming an escalation and its
//! recipient, single-use because an escalation is acknowledged once. The pages behind them are
//! in [`super::ack_page`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::clock::Timestamp;
use crate::store::{Store, StoreError};

/// How long a link in a message works.
pub const LINK_TTL_S: i64 = 24 * 3600;

/// Signs and checks links with the key every instance on the database shares.
#[derive(Clone)]
pub struct AckLinks {
    key: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The escalation it acknowledges.
    pub e: String,
    /// Whom it was sent to: they are who acknowledged.
    pub r: String,
    /// Expires at (Unix ms).
    x: i64,
}

#[derive(Debug, PartialEq)]
pub enum LinkError {
    Forged,
    Expired,
}

impl AckLinks {
    pub async fn load(store: &Store) -> Result<Self, StoreError> {
        let key = store.shared_secret("ack-link-key", || hex::encode(rand::random::<[u8; 32]>())).await?;
        Ok(Self { key: key.into_bytes() })
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(payload.as_bytes());
        mac
    }

    /// A token acknowledging `escalation_id` as `recipient`, valid for [`LINK_TTL_S`].
    pub fn token(&self, escalation_id: &str, recipient: &str, now: Timestamp) -> String {
        let claims = Claims { e: escalation_id.into(), r: recipient.into(), x: now.plus_seconds(LINK_TTL_S).millis() };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("claims serialize"));
        let signature = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The escalation and recipient a token names, if it is ours and still valid.
    pub fn check(&self, token: &str, now: Timestamp) -> Result<Claims, LinkError> {
        let (payload, signature) = token.split_once('.').ok_or(LinkError::Forged)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| LinkError::Forged)?;
        self.mac(payload).verify_slice(&signature).map_err(|_| LinkError::Forged)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(LinkError::Forged)?;
        if now.millis() >= claims.x {
            return Err(LinkError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_until_it_expires_and_cannot_be_altered() {
        let links = AckLinks { key: b"k".to_vec() };
        let now = Timestamp(1_800_000_000_000);
        let token = links.token("esc-1", "a@b.ru", now);
        let claims = links.check(&token, now.plus_seconds(LINK_TTL_S - 1)).unwrap();
        assert_eq!((claims.e.as_str(), claims.r.as_str()), ("esc-1", "a@b.ru"));
        assert_eq!(links.check(&token, now.plus_seconds(LINK_TTL_S)), Err(LinkError::Expired));

        let (payload, signature) = token.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(br#"{"e":"esc-2","r":"a@b.ru","x":99999999999999}"#);
        assert_eq!(links.check(&format!("{other}.{signature}"), now), Err(LinkError::Forged));
        assert_eq!(links.check(payload, now), Err(LinkError::Forged));
        let stranger = AckLinks { key: b"other".to_vec() };
        assert_eq!(stranger.check(&token, now), Err(LinkError::Forged));
    }
}
