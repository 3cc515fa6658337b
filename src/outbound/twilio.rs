//! Twilio's REST API for placing calls: `POST {api}/2010-04-01/Accounts/{AccountSid}/Calls.json`
//! with HTTP Basic auth (the account sid and auth token) and form fields (SPEC §8).

use futures_util::future::BoxFuture;

use super::{PlaceCall, Placer, sid_from};
use crate::config::Secret;

pub struct TwilioRest {
    pub http: reqwest::Client,
    /// Without a trailing slash (HOTLINE_TWILIO_API_URL).
    pub api_url: String,
    pub account_sid: String,
    pub auth_token: Secret,
}

impl TwilioRest {
    fn calls_url(&self) -> String {
        format!("{}/2010-04-01/Accounts/{}/Calls.json", self.api_url, self.account_sid)
    }
}

/// The form fields of a call request; Twilio calls the status callback on the call's end (its default).
fn form(call: &PlaceCall) -> [(&'static str, &str); 5] {
    [
        ("To", &call.to),
        ("From", &call.from),
        ("Url", &call.answer_url),
        ("Method", "POST"),
        ("StatusCallback", &call.status_url),
    ]
}

impl Placer for TwilioRest {
    fn place<'a>(&'a self, call: &'a PlaceCall) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let request = self
                .http
                .post(self.calls_url())
                .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
                .form(&form(call));
            sid_from(request.send().await).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_account_and_both_of_our_urls() {
        let rest = TwilioRest {
            http: reqwest::Client::new(),
            api_url: "https://api.twilio.com".into(),
            account_sid: "AC1".into(),
            auth_token: Secret::new("t"),
        };
        assert_eq!(rest.calls_url(), "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json");
        let call = PlaceCall {
            to: "+74852000001".into(),
            from: "+78005050115".into(),
            answer_url: "https://h/telephony/twilio/voice?outbound=1".into(),
            status_url: "https://h/telephony/twilio/status?outbound=1".into(),
        };
        let fields = form(&call);
        assert!(fields.contains(&("Url", "https://h/telephony/twilio/voice?outbound=1")));
        assert!(fields.contains(&("StatusCallback", "https://h/telephony/twilio/status?outbound=1")));
    }
}
