//! jambonz's REST API for placing calls: `POST {api}/v1/Accounts/{account_sid}/Calls` with a
//! bearer API key and a JSON body naming the call hook and the status hook (SPEC §8).

use futures_util::future::BoxFuture;

use super::{PlaceCall, Placer, sid_from};
use crate::config::Secret;

pub struct JambonzRest {
    pub http: reqwest::Client,
    /// Without a trailing slash (HOTLINE_JAMBONZ_API_URL).
    pub api_url: String,
    pub account_sid: String,
    pub api_key: Secret,
}

impl JambonzRest {
    fn calls_url(&self) -> String {
        format!("{}/v1/Accounts/{}/Calls", self.api_url, self.account_sid)
    }
}

fn body(call: &PlaceCall) -> serde_json::Value {
    serde_json::json!({
        "from": call.from,
        "to": {"type": "phone", "number": call.to},
        "call_hook": {"url": call.answer_url, "method": "POST"},
        "call_status_hook": {"url": call.status_url, "method": "POST"},
    })
}

impl Placer for JambonzRest {
    fn place<'a>(&'a self, call: &'a PlaceCall) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let request = self.http.post(self.calls_url()).bearer_auth(self.api_key.expose()).json(&body(call));
            sid_from(request.send().await).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_shaped_as_the_api_documents_it() {
        let call = PlaceCall {
            to: "+74852000001".into(),
            from: "+78005050115".into(),
            answer_url: "https://h/telephony/jambonz/voice?outbound=1".into(),
            status_url: "https://h/telephony/jambonz/status?outbound=1".into(),
        };
        let json = body(&call);
        assert_eq!(json["to"], serde_json::json!({"type": "phone", "number": "+74852000001"}));
        assert_eq!(json["call_hook"]["method"], "POST");
        assert_eq!(json["call_status_hook"]["url"], "https://h/telephony/jambonz/status?outbound=1");
    }
}
