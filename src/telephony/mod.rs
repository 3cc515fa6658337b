//! Telephony providers: each dialect verifies and parses its webhooks into one [`Inbound`] event
//! and renders one provider-neutral list of [`Action`]s back into its own format.

pub mod http;
pub mod jambonz;
mod provider;
pub mod twilio;

pub use provider::{Provider, Webhook, WebhookDoc};

/// Which provider dialect a webhook speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Twilio,
    Jambonz,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Twilio => "twilio",
            Dialect::Jambonz => "jambonz",
        }
    }

    /// The media type of the dialect's answers (TwiML, jambonz verbs as JSON).
    pub fn answer_content_type(self) -> &'static str {
        match self {
            Dialect::Twilio => "text/xml; charset=utf-8",
            Dialect::Jambonz => "application/json",
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        [Dialect::Twilio, Dialect::Jambonz]
            .into_iter()
            .find(|d| d.as_str() == raw)
            .ok_or_else(|| format!("'{raw}' is not a provider dialect"))
    }
}

/// How a prompt is spoken.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Voice {
    /// BCP-47 language tag, `ru-RU` by default.
    pub language: String,
    /// Twilio's voice name (for example `Polly.Tatyana`); `None` leaves it to Twilio. jambonz
    /// names its voices per TTS vendor and takes them from the settings (`jambonz::Tts`).
    pub name: Option<String>,
}

/// Something the caller hears inside a gather (so a key press can cut it short).
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Say { text: String, voice: Voice },
    Play { url: String },
    Pause { seconds: u32 },
}

/// What a gather listens for.
#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    pub dtmf: bool,
    pub speech: bool,
    /// Stop after this many digits; `None` waits for the finish key or the timeout.
    pub num_digits: Option<u32>,
    /// `#`, `*` or a digit; `None` means no finish key.
    pub finish_on_key: Option<char>,
    /// Seconds of silence after the prompt before the gather gives up.
    pub timeout_s: u32,
    /// Words the speech recogniser should expect (settlement names).
    pub hints: Vec<String>,
    /// Language for speech recognition.
    pub language: String,
    /// Absolute URL the result is posted to.
    pub action_url: String,
    /// Absolute URL for silence: Twilio falls through a gather without calling `action_url`,
    /// so its renderer adds a `<Redirect>` here; jambonz calls `action_url` with reason `timeout`.
    pub no_input_url: String,
    pub prompts: Vec<Prompt>,
}

/// A provider-neutral instruction for the call, in the order the caller meets them.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Say {
        text: String,
        voice: Voice,
    },
    Play {
        url: String,
    },
    Pause {
        seconds: u32,
    },
    Gather(Gather),
    /// Record the caller (a theft report); the recording's URL and length are posted to `action_url`.
    Record {
        action_url: String,
        max_length_s: u32,
        timeout_s: u32,
        finish_on_key: Option<char>,
        play_beep: bool,
    },
    /// Put the caller in a named queue; the provider polls `wait_url` while they wait and posts
    /// to `action_url` when they leave the queue.
    Enqueue {
        queue: String,
        wait_url: String,
        action_url: String,
    },
    /// Take the caller out of the queue they wait in (answer to a wait poll).
    Leave,
    /// Connect the caller to a phone number (`+7...`) or a SIP address (`sip:...`).
    Dial {
        target: String,
        caller_id: Option<String>,
        timeout_s: u32,
        action_url: Option<String>,
    },
    Redirect {
        url: String,
    },
    Hangup,
    /// Refuse the call without answering it (only meaningful as the first action).
    Reject {
        busy: bool,
    },
}

/// What the caller did at a gather.
#[derive(Debug, Clone, PartialEq)]
pub enum GatherResult {
    Digits(String),
    Speech {
        transcript: String,
        confidence: Option<f32>,
    },
    /// Nothing was entered before the timeout.
    Silence,
}

/// The provider's view of where a call is, from a status callback or any webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderStatus {
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

/// One webhook, normalised: whatever a dialect sent, the IVR sees this.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inbound {
    /// The provider's call id (`CallSid`, `call_sid`).
    pub call_id: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<ProviderStatus>,
    /// Present on a gather's action hook.
    pub gather: Option<GatherResult>,
    pub recording_url: Option<String>,
    pub recording_duration_s: Option<i64>,
    /// On an enqueue action hook: why the caller left the queue (`bridged`, `hangup`, `leave`, ...).
    pub queue_result: Option<String>,
    /// On a dial's action hook: how the call put through ended (`completed`, `busy`,
    /// `no-answer`, `failed`, `canceled`).
    pub dial_status: Option<String>,
    /// The provider's ordering of status callbacks (`SequenceNumber`), when it sends one.
    pub sequence: Option<i64>,
    /// A call the hotline placed: its request, named in the query of the URLs the provider was
    /// given (`?outbound=ID`, see `outbound`), which the signature covers like the rest.
    pub placed: Option<String>,
}

impl Inbound {
    /// What the webhook says happened, for the call's log: the fields the hotline reads, as a
    /// JSON object. Not the raw body: a provider sends some twenty fields, the caller's number
    /// and whereabouts among them, which the call's row already holds or the hotline never uses
    /// (152-FZ keeps personal data to what its purpose needs, and a step writes a tenth as much).
    pub fn logged(&self) -> String {
        let mut log = serde_json::Map::new();
        let mut put = |name: &str, value: serde_json::Value| {
            log.insert(name.to_string(), value);
        };
        if let Some(status) = self.status {
            put("status", format!("{status:?}").into());
        }
        match &self.gather {
            Some(GatherResult::Digits(digits)) => put("digits", digits.as_str().into()),
            Some(GatherResult::Speech { transcript, confidence }) => {
                put("speech", transcript.as_str().into());
                if let Some(confidence) = confidence {
                    put("confidence", f64::from(*confidence).into());
                }
            }
            Some(GatherResult::Silence) => put("silence", true.into()),
            None => {}
        }
        if let Some(url) = &self.recording_url {
            put("recording_url", url.as_str().into());
        }
        if let Some(seconds) = self.recording_duration_s {
            put("recording_duration_s", seconds.into());
        }
        if let Some(result) = &self.queue_result {
            put("queue_result", result.as_str().into());
        }
        if let Some(status) = &self.dial_status {
            put("dial_status", status.as_str().into());
        }
        if let Some(sequence) = self.sequence {
            put("sequence", sequence.into());
        }
        if let Some(placed) = &self.placed {
            put("placed", placed.as_str().into());
        }
        serde_json::Value::Object(log).to_string()
    }
}

/// The longest recording URL kept; a provider's are far shorter.
const RECORDING_URL_MAX: usize = 2000;

/// A recording's URL as a provider reported it, if it is one to keep and show as a link: http or
/// https with a host, no spaces or control characters (SPEC §6). Anything else (`javascript:`,
/// `data:`, a bare word) is dropped: the recording still counts, without a link.
pub fn recording_url(raw: &str) -> Option<&str> {
    let url = raw.trim();
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    let host = url[scheme_end + 3..].split(['/', '?', '#']).next().unwrap_or("");
    let ok = (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"))
        && !host.is_empty()
        && url.len() <= RECORDING_URL_MAX
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(url)
}

/// Why a webhook was refused before it was read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
    #[error("the signature is older or newer than the 300 s tolerance")]
    Expired,
}

#[cfg(test)]
mod tests {
    use super::{GatherResult, Inbound, ProviderStatus, recording_url};

    #[test]
    fn a_webhook_is_logged_by_what_happened_without_the_numbers() {
        let pressed = Inbound {
            call_id: "CA1".into(),
            from: Some("+79101234567".into()),
            to: Some("+78005050115".into()),
            status: Some(ProviderStatus::InProgress),
            gather: Some(GatherResult::Digits("152610".into())),
            ..Inbound::default()
        };
        assert_eq!(pressed.logged(), r#"{"digits":"152610","status":"InProgress"}"#);
        let said = Inbound {
            gather: Some(GatherResult::Speech {
                transcript: "Углич & Мышкин".into(), confidence: Some(0.5)
            }),
            queue_result: Some("hangup".into()),
            ..Inbound::default()
        };
        assert_eq!(said.logged(), r#"{"confidence":0.5,"queue_result":"hangup","speech":"Углич & Мышкин"}"#);
        assert_eq!(
            Inbound { gather: Some(GatherResult::Silence), ..Inbound::default() }.logged(),
            r#"{"silence":true}"#
        );
    }

    #[test]
    fn only_http_and_https_recording_urls_are_kept() {
        for good in ["https://api.twilio.com/rec/RE1", "http://r.example/1.wav", " HTTPS://R.example/x?y=1 "] {
            assert_eq!(recording_url(good), Some(good.trim()), "{good}");
        }
        for bad in [
            "javascript:alert(document.domain)",
            "JavaScript://%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example/x",
            "https://",
            "https:///path",
            "https://a.example/x y",
            "ftp://a.example/x",
            "recording",
        ] {
            assert_eq!(recording_url(bad), None, "{bad}");
        }
    }
}
