//! The jambonz dialect: `Jambonz-Signature`, JSON webhooks, JSON verb arrays.

use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::{
    Action, Dialect, Gather, GatherResult, Inbound, Prompt, Provider, ProviderStatus, SignatureError, Voice, Webhook,
    WebhookDoc,
};
use crate::config::Settings;
use crate::store::StoredAnswer;

/// The jambonz dialect as a [`Provider`].
pub struct Jambonz;

impl Provider for Jambonz {
    const DIALECT: Dialect = Dialect::Jambonz;
    const SIGNATURE_HEADER: &'static str = "jambonz-signature";
    const API_DOC: WebhookDoc = WebhookDoc {
        provider: "jambonz",
        signature_checked: "Checked when a jambonz secret is configured",
        request_content_type: "application/json",
        request_description: "jambonz's webhook payload (call_sid, from, to, call_status, digits, speech, ...)",
        request_schema: <Value as utoipa::PartialSchema>::schema,
        answer_format: "as jambonz verbs",
        answer_content_type: "application/json",
        answer_schema: <Value as utoipa::PartialSchema>::schema,
    };

    fn verify(settings: &Settings, webhook: &Webhook<'_>) -> Result<(), SignatureError> {
        let Some(secret) = &settings.jambonz_secret else { return Ok(()) };
        let now_unix = webhook.received_at.millis() / 1000;
        verify(secret.expose(), webhook.signature::<Self>(), webhook.body, now_unix)
    }

    fn parse(webhook: &Webhook<'_>) -> Result<Inbound, String> {
        inbound(webhook.body)
    }

    fn supports(action: &Action) -> bool {
        supports(action)
    }

    /// Spoken through the configured TTS vendor.
    fn render(settings: &Settings, actions: &[Action]) -> StoredAnswer {
        StoredAnswer {
            content_type: Self::DIALECT.answer_content_type().into(),
            body: render(actions, &settings.jambonz_tts).to_string(),
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

/// How far the signed timestamp may be from our clock, either way, before a webhook counts as replayed.
const TOLERANCE_S: u64 = 300;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `v1` value for a body: hex(HMAC-SHA256(secret, "<t>." + raw body)).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// Checks `Jambonz-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]` against the raw body.
///
/// Several `v1` entries are allowed because jambonz signs with each secret while one is being rotated.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8], now_unix: i64) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    // A trailing comma is sloppy, not a different signature.
    for part in header.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(SignatureError::Malformed);
        };
        match name.trim() {
            "t" => {
                // Two timestamps would leave it open which one was signed.
                if timestamp.is_some() {
                    return Err(SignatureError::Malformed);
                }
                let t = value.trim().parse::<i64>().map_err(|_| SignatureError::Malformed)?;
                timestamp = Some(t);
            }
            // A v1 that is not hex cannot match, but another v1 in the same header still may.
            "v1" => candidates.extend(hex::decode(value.trim()).ok()),
            // Other schemes (a future v2) are not ours to judge.
            _ => {}
        }
    }
    let (Some(t), false) = (timestamp, candidates.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    if now_unix.abs_diff(t) > TOLERANCE_S {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, t, body);
    // Check every entry so the time taken does not reveal which one matched.
    let mut matched = false;
    for candidate in &candidates {
        matched |= expected.clone().verify_slice(candidate).is_ok();
    }
    if matched { Ok(()) } else { Err(SignatureError::Mismatch) }
}

fn text<'a>(obj: &'a Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| obj.get(*name).and_then(Value::as_str)).filter(|v| !v.is_empty())
}

fn status(value: &str) -> Option<ProviderStatus> {
    Some(match value {
        // Before answer, these all mean the same to the IVR: the call exists but nobody talks yet.
        "trying" | "ringing" | "early-media" => ProviderStatus::Ringing,
        "in-progress" => ProviderStatus::InProgress,
        "completed" => ProviderStatus::Completed,
        "failed" => ProviderStatus::Failed,
        "busy" => ProviderStatus::Busy,
        "no-answer" => ProviderStatus::NoAnswer,
        _ => return None,
    })
}

fn gather(obj: &Map<String, Value>) -> Option<GatherResult> {
    match obj.get("reason").and_then(Value::as_str)? {
        // An empty entry (only the finish key, or nothing recognised) is, for the IVR, no entry.
        "dtmfDetected" => {
            Some(text(obj, &["digits"]).map_or(GatherResult::Silence, |d| GatherResult::Digits(d.to_owned())))
        }
        "speechDetected" => {
            let best = obj.get("speech").and_then(|s| s.get("alternatives")).and_then(|a| a.get(0));
            let transcript =
                best.and_then(|b| b.get("transcript")).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
            Some(match transcript {
                Some(transcript) => GatherResult::Speech {
                    transcript: transcript.to_owned(),
                    confidence: best.and_then(|b| b.get("confidence")).and_then(Value::as_f64).map(|c| c as f32),
                },
                None => GatherResult::Silence,
            })
        }
        // Unlike Twilio, jambonz reports silence to the action hook itself.
        "timeout" => Some(GatherResult::Silence),
        _ => None,
    }
}

/// Normalises a jambonz webhook's JSON body; only a body that is not a JSON object or has no
/// `call_sid` is an error.
pub fn inbound(body: &[u8]) -> Result<Inbound, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the jambonz webhook body is not JSON: {e}"))?;
    let obj = value.as_object().ok_or("the jambonz webhook body is not a JSON object")?;
    let call_id = text(obj, &["call_sid"]).ok_or("the jambonz webhook has no call_sid")?;
    let integer = |names: &[&str]| {
        names.iter().find_map(|name| {
            let v = obj.get(*name)?;
            v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
        })
    };
    Ok(Inbound {
        call_id: call_id.to_owned(),
        from: text(obj, &["from"]).map(str::to_owned),
        to: text(obj, &["to"]).map(str::to_owned),
        status: text(obj, &["call_status"]).and_then(status),
        gather: gather(obj),
        // jambonz's docs mix camelCase (`queueResult`) and snake_case (`call_sid`) between hooks,
        // so either spelling is taken rather than trusting one page.
        recording_url: text(obj, &["recording_url", "recordingUrl"]).map(str::to_owned),
        recording_duration_s: integer(&["recording_duration", "recordingDuration"]),
        queue_result: text(obj, &["queueResult", "queue_result"]).map(str::to_owned),
        dial_status: text(obj, &["dial_call_status", "dialCallStatus"]).map(str::to_owned),
        sequence: None,
        // From the URL's query, which only the shared handlers see.
        placed: None,
    })
}

/// Whether jambonz can carry out the action; the engine routes callers elsewhere when it cannot.
pub fn supports(action: &Action) -> bool {
    // jambonz has no verb that records the caller and posts the file to a URL.
    !matches!(action, Action::Record { .. })
}

/// How jambonz speaks: the text-to-speech vendor configured on the jambonz account and the
/// voice to ask it for. jambonz refuses a `say` whose synthesizer names no vendor, and voice
/// names belong to their vendor (the scripts' `voice`, such as `Polly.Tatyana`, is Twilio's
/// and means nothing here), so both come from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tts {
    /// `google`, `aws`, `microsoft`, `elevenlabs`, `custom:NAME`, ... as jambonz spells it.
    pub vendor: String,
    pub voice: TtsVoice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtsVoice {
    /// The vendor's voice for the prompt's language from [`known_voice`]; left out where there
    /// is none, so jambonz takes the application's default.
    Known,
    /// This voice, whatever the language.
    Named(String),
    /// Never named: jambonz takes the application's default voice for the vendor.
    ApplicationDefault,
}

/// The vendor jambonz speaks through unless HOTLINE_JAMBONZ_TTS_VENDOR says otherwise.
pub const DEFAULT_TTS_VENDOR: &str = "google";

impl Default for Tts {
    fn default() -> Self {
        Self { vendor: DEFAULT_TTS_VENDOR.into(), voice: TtsVoice::Known }
    }
}

impl Tts {
    /// From the settings: the vendor, and the voice (`None`: the vendor's known voice;
    /// `default`: the application's default voice; anything else: that voice).
    pub fn new(vendor: &str, voice: Option<&str>) -> Self {
        let voice = match voice.map(str::trim).filter(|v| !v.is_empty()) {
            None => TtsVoice::Known,
            Some("default") => TtsVoice::ApplicationDefault,
            Some(name) => TtsVoice::Named(name.to_string()),
        };
        Self { vendor: vendor.trim().to_string(), voice }
    }

    /// The voice a prompt in `language` is spoken with, if one is named.
    pub fn voice_for(&self, language: &str) -> Option<&str> {
        match &self.voice {
            TtsVoice::Known => known_voice(&self.vendor, language),
            TtsVoice::Named(name) => Some(name),
            TtsVoice::ApplicationDefault => None,
        }
    }
}

/// A female Russian voice of each vendor we know, in that vendor's own naming.
pub fn known_voice(vendor: &str, language: &str) -> Option<&'static str> {
    if !language.eq_ignore_ascii_case("ru-RU") {
        return None;
    }
    match vendor {
        "google" => Some("ru-RU-Wavenet-A"),
        "aws" | "polly" => Some("Tatyana"),
        "microsoft" => Some("ru-RU-SvetlanaNeural"),
        _ => None,
    }
}

fn synthesizer(voice: &Voice, tts: &Tts) -> Value {
    let mut s = Map::new();
    s.insert("vendor".into(), json!(tts.vendor));
    s.insert("language".into(), json!(voice.language));
    if let Some(name) = tts.voice_for(&voice.language) {
        s.insert("voice".into(), json!(name));
    }
    Value::Object(s)
}

fn gather_verb(g: &Gather, tts: &Tts) -> Value {
    let mut input = Vec::new();
    // jambonz spells dtmf "digits"; a gather that listens for nothing falls back to its default.
    if g.dtmf || !g.speech {
        input.push("digits");
    }
    if g.speech {
        input.push("speech");
    }
    let mut verb = Map::new();
    verb.insert("verb".into(), json!("gather"));
    verb.insert("input".into(), json!(input));
    verb.insert("actionHook".into(), json!(g.action_url));
    verb.insert("timeout".into(), json!(g.timeout_s));
    if let Some(n) = g.num_digits {
        verb.insert("numDigits".into(), json!(n));
    }
    if let Some(key) = g.finish_on_key {
        verb.insert("finishOnKey".into(), json!(key.to_string()));
    }
    if g.speech {
        verb.insert("recognizer".into(), json!({"vendor": "default", "language": g.language, "hints": g.hints}));
    }
    // A jambonz gather nests one say or one play, so several spoken prompts become one text and
    // pauses are dropped; a recording is used only when nothing is spoken.
    let says: Vec<(&str, &Voice)> = g
        .prompts
        .iter()
        .filter_map(|p| match p {
            Prompt::Say { text, voice } => Some((text.as_str(), voice)),
            _ => None,
        })
        .collect();
    if let Some((_, voice)) = says.first() {
        let text = says.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(" ");
        verb.insert("say".into(), json!({"text": text, "synthesizer": synthesizer(voice, tts)}));
    } else if let Some(url) = g.prompts.iter().find_map(|p| match p {
        Prompt::Play { url } => Some(url),
        _ => None,
    }) {
        verb.insert("play".into(), json!({"url": url}));
    }
    Value::Object(verb)
}

/// Renders the actions as a jambonz verb array, spoken through `tts`; actions jambonz cannot do
/// (see [`supports`]) are skipped.
pub fn render(actions: &[Action], tts: &Tts) -> Value {
    let verbs = actions
        .iter()
        .filter_map(|action| {
            Some(match action {
                Action::Say { text, voice } => {
                    json!({"verb": "say", "text": text, "synthesizer": synthesizer(voice, tts)})
                }
                Action::Play { url } => json!({"verb": "play", "url": url}),
                Action::Pause { seconds } => json!({"verb": "pause", "length": seconds}),
                Action::Gather(g) => gather_verb(g, tts),
                Action::Record { .. } => return None,
                Action::Enqueue { queue, wait_url, action_url } => json!({
                    "verb": "enqueue",
                    "name": queue,
                    "waitHook": wait_url,
                    "actionHook": action_url,
                }),
                Action::Leave => json!({"verb": "leave"}),
                Action::Dial { target, caller_id, timeout_s, action_url } => {
                    let target = if target.starts_with("sip:") {
                        json!({"type": "sip", "sipUri": target})
                    } else {
                        json!({"type": "phone", "number": target})
                    };
                    let mut verb = Map::new();
                    verb.insert("verb".into(), json!("dial"));
                    verb.insert("target".into(), json!([target]));
                    verb.insert("timeout".into(), json!(timeout_s));
                    if let Some(url) = action_url {
                        verb.insert("actionHook".into(), json!(url));
                    }
                    if let Some(id) = caller_id {
                        verb.insert("callerId".into(), json!(id));
                    }
                    Value::Object(verb)
                }
                Action::Redirect { url } => json!({"verb": "redirect", "actionHook": url}),
                Action::Hangup => json!({"verb": "hangup"}),
                Action::Reject { busy: true } => {
                    json!({"verb": "sip:decline", "status": 486, "reason": "Busy"})
                }
                Action::Reject { busy: false } => {
                    json!({"verb": "sip:decline", "status": 603, "reason": "Decline"})
                }
            })
        })
        .collect();
    Value::Array(verbs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wh_secret_cJqgaDDfYTF2yoB5LcHD2y";
    const BODY: &[u8] = br#"{"call_sid":"6e2bd3f0-1a1b-4c5d-9e8f-0a1b2c3d4e5f","reason":"dtmfDetected","digits":"1"}"#;
    const NOW: i64 = 1_700_000_000;

    fn header(t: i64, v1: &str) -> String {
        format!("t={t},v1={v1}")
    }

    #[test]
    fn signature_is_hex_hmac_sha256_of_timestamp_dot_body() {
        let sig = signature(SECRET, NOW, BODY);
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(sig, signature(SECRET, NOW + 1, BODY));
    }

    #[test]
    fn signature_matches_a_known_vector() {
        // HMAC-SHA256("key", "1.{}") computed independently (Python hmac/hashlib).
        assert_eq!(signature("key", 1, b"{}"), "1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
    }

    #[test]
    fn verify_accepts_a_signature_it_computed() {
        let h = header(NOW, &signature(SECRET, NOW, BODY));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW), Ok(()));
        // Within the window either way.
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW + 300), Ok(()));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW - 300), Ok(()));
    }

    #[test]
    fn verify_refuses_the_wrong_secret() {
        let h = header(NOW, &signature("another secret", NOW, BODY));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_refuses_a_changed_body() {
        let h = header(NOW, &signature(SECRET, NOW, BODY));
        assert_eq!(verify(SECRET, Some(&h), b"{}", NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_refuses_a_timestamp_301_s_off() {
        let h = header(NOW, &signature(SECRET, NOW, BODY));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW + 301), Err(SignatureError::Expired));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW - 301), Err(SignatureError::Expired));
    }

    #[test]
    fn verify_refuses_a_garbage_header() {
        for garbage in ["garbage", "", "t=abc,v1=00", "v1=00", "t=1700000000", "t=1700000000,v1=zz", "t=1,t=2,v1=00"] {
            assert_eq!(verify(SECRET, Some(garbage), BODY, NOW), Err(SignatureError::Malformed), "{garbage:?}");
        }
    }

    #[test]
    fn verify_refuses_a_missing_header() {
        assert_eq!(verify(SECRET, None, BODY, NOW), Err(SignatureError::Missing));
    }

    #[test]
    fn verify_accepts_when_the_second_v1_matches() {
        let good = signature(SECRET, NOW, BODY);
        let old = signature("the secret before rotation", NOW, BODY);
        let h = format!("t={NOW}, v1={old}, v1={good}");
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW), Ok(()));
    }

    #[test]
    fn inbound_reads_digits_and_call_fields() {
        let ev = inbound(
            br#"{"call_sid":"cs-1","from":"+79001234567","to":"+78002000000","call_status":"in-progress",
                 "direction":"inbound","reason":"dtmfDetected","digits":"0276"}"#,
        )
        .expect("valid");
        assert_eq!(
            ev,
            Inbound {
                call_id: "cs-1".into(),
                from: Some("+79001234567".into()),
                to: Some("+78002000000".into()),
                status: Some(ProviderStatus::InProgress),
                gather: Some(GatherResult::Digits("0276".into())),
                ..Inbound::default()
            }
        );
    }

    #[test]
    fn inbound_reads_speech() {
        let ev = inbound(
            r#"{"call_sid":"cs-1","reason":"speechDetected","speech":{"is_final":true,
                "alternatives":[{"confidence":0.5,"transcript":"Берёзовка"},{"confidence":0.1,"transcript":"Берёза"}]}}"#
                .as_bytes(),
        )
        .expect("valid");
        assert_eq!(ev.gather, Some(GatherResult::Speech { transcript: "Берёзовка".into(), confidence: Some(0.5) }));
    }

    #[test]
    fn inbound_reads_timeout_as_silence() {
        let ev = inbound(br#"{"call_sid":"cs-1","reason":"timeout"}"#).expect("valid");
        assert_eq!(ev.gather, Some(GatherResult::Silence));
        let ev = inbound(br#"{"call_sid":"cs-1","reason":"dtmfDetected","digits":""}"#).expect("valid");
        assert_eq!(ev.gather, Some(GatherResult::Silence));
        let ev = inbound(br#"{"call_sid":"cs-1","call_status":"in-progress"}"#).expect("valid");
        assert_eq!(ev.gather, None);
    }

    #[test]
    fn inbound_reads_queue_and_recording_fields() {
        let ev = inbound(
            br#"{"call_sid":"cs-1","queueResult":"bridged","recording_url":"https://r.example/1.wav","recording_duration":17}"#,
        )
        .expect("valid");
        assert_eq!(ev.queue_result.as_deref(), Some("bridged"));
        assert_eq!(ev.recording_url.as_deref(), Some("https://r.example/1.wav"));
        assert_eq!(ev.recording_duration_s, Some(17));
        let ev = inbound(br#"{"call_sid":"cs-1","queue_result":"hangup"}"#).expect("valid");
        assert_eq!(ev.queue_result.as_deref(), Some("hangup"));
    }

    #[test]
    fn inbound_maps_every_status() {
        let cases = [
            ("trying", Some(ProviderStatus::Ringing)),
            ("ringing", Some(ProviderStatus::Ringing)),
            ("early-media", Some(ProviderStatus::Ringing)),
            ("in-progress", Some(ProviderStatus::InProgress)),
            ("completed", Some(ProviderStatus::Completed)),
            ("failed", Some(ProviderStatus::Failed)),
            ("busy", Some(ProviderStatus::Busy)),
            ("no-answer", Some(ProviderStatus::NoAnswer)),
            ("queued", None),
        ];
        for (value, expected) in cases {
            let body = json!({"call_sid": "cs-1", "call_status": value}).to_string();
            assert_eq!(inbound(body.as_bytes()).expect("valid").status, expected, "{value}");
        }
    }

    #[test]
    fn inbound_refuses_bad_bodies() {
        assert!(inbound(b"CallSid=CA1").is_err());
        assert!(inbound(b"[]").is_err());
        assert!(inbound(br#"{"from":"+79001234567"}"#).is_err());
        assert!(inbound(br#"{"call_sid":""}"#).is_err());
        assert!(inbound(br#"{"call_sid":42}"#).is_err());
    }

    fn ru(name: Option<&str>) -> Voice {
        Voice { language: "ru-RU".into(), name: name.map(str::to_owned) }
    }

    #[test]
    fn supports_everything_but_record() {
        let record = Action::Record {
            action_url: "https://h.example/rec".into(),
            max_length_s: 60,
            timeout_s: 5,
            finish_on_key: None,
            play_beep: true,
        };
        assert!(!supports(&record));
        assert!(supports(&Action::Hangup));
        assert!(supports(&Action::Leave));
    }

    #[test]
    fn render_golden_every_action() {
        let actions = vec![
            Action::Say { text: r#"Ток <220 В> & "фаза" 'ноль'"#.into(), voice: ru(Some("Polly.Tatyana")) },
            Action::Play { url: "https://h.example/a.mp3?x=1&y=2".into() },
            Action::Pause { seconds: 2 },
            Action::Gather(Gather {
                dtmf: true,
                speech: true,
                num_digits: Some(1),
                finish_on_key: Some('#'),
                timeout_s: 5,
                hints: vec!["Берёзовка".into(), "Липки".into()],
                language: "ru-RU".into(),
                action_url: "https://h.example/t/jambonz/g?step=menu".into(),
                no_input_url: "https://h.example/t/jambonz/g?step=menu&silence=1".into(),
                prompts: vec![
                    Prompt::Say { text: "Нажмите 1.".into(), voice: ru(Some("Polly.Tatyana")) },
                    Prompt::Pause { seconds: 1 },
                    Prompt::Say { text: "Или назовите посёлок.".into(), voice: ru(None) },
                ],
            }),
            Action::Gather(Gather {
                dtmf: true,
                speech: false,
                num_digits: None,
                finish_on_key: None,
                timeout_s: 7,
                hints: vec![],
                language: "ru-RU".into(),
                action_url: "https://h.example/g2".into(),
                no_input_url: "https://h.example/g2/none".into(),
                prompts: vec![
                    Prompt::Play { url: "https://h.example/b.mp3".into() },
                    Prompt::Play { url: "https://h.example/c.mp3".into() },
                ],
            }),
            Action::Record {
                action_url: "https://h.example/rec".into(),
                max_length_s: 120,
                timeout_s: 5,
                finish_on_key: Some('#'),
                play_beep: true,
            },
            Action::Enqueue {
                queue: "operators".into(),
                wait_url: "https://h.example/wait".into(),
                action_url: "https://h.example/left".into(),
            },
            Action::Leave,
            Action::Dial {
                target: "+78001234567".into(),
                caller_id: Some("+78002000000".into()),
                timeout_s: 30,
                action_url: Some("https://h.example/dialed".into()),
            },
            Action::Dial { target: "sip:duty@pbx.example".into(), caller_id: None, timeout_s: 20, action_url: None },
            Action::Redirect { url: "https://h.example/next".into() },
            Action::Hangup,
            Action::Reject { busy: true },
            Action::Reject { busy: false },
        ];
        let expected: Value = serde_json::from_str(
            r##"[
              {"verb":"say","text":"Ток <220 В> & \"фаза\" 'ноль'","synthesizer":{"vendor":"google","language":"ru-RU","voice":"ru-RU-Wavenet-A"}},
              {"verb":"play","url":"https://h.example/a.mp3?x=1&y=2"},
              {"verb":"pause","length":2},
              {"verb":"gather","input":["digits","speech"],"actionHook":"https://h.example/t/jambonz/g?step=menu",
               "timeout":5,"numDigits":1,"finishOnKey":"#",
               "recognizer":{"vendor":"default","language":"ru-RU","hints":["Берёзовка","Липки"]},
               "say":{"text":"Нажмите 1. Или назовите посёлок.","synthesizer":{"vendor":"google","language":"ru-RU","voice":"ru-RU-Wavenet-A"}}},
              {"verb":"gather","input":["digits"],"actionHook":"https://h.example/g2","timeout":7,
               "play":{"url":"https://h.example/b.mp3"}},
              {"verb":"enqueue","name":"operators","waitHook":"https://h.example/wait","actionHook":"https://h.example/left"},
              {"verb":"leave"},
              {"verb":"dial","target":[{"type":"phone","number":"+78001234567"}],"timeout":30,
               "actionHook":"https://h.example/dialed","callerId":"+78002000000"},
              {"verb":"dial","target":[{"type":"sip","sipUri":"sip:duty@pbx.example"}],"timeout":20},
              {"verb":"redirect","actionHook":"https://h.example/next"},
              {"verb":"hangup"},
              {"verb":"sip:decline","status":486,"reason":"Busy"},
              {"verb":"sip:decline","status":603,"reason":"Decline"}
            ]"##,
        )
        .expect("the expected document is JSON");
        assert_eq!(render(&actions, &Tts::default()), expected);
    }

    #[test]
    fn render_nothing_is_an_empty_array() {
        assert_eq!(render(&[], &Tts::default()), json!([]));
    }

    #[test]
    fn every_say_names_the_vendor_and_a_voice_of_that_vendor() {
        let say = |tts: &Tts, language: &str| {
            let voice = Voice { language: language.into(), name: Some("Polly.Tatyana".into()) };
            render(&[Action::Say { text: "Алло".into(), voice }], tts)[0]["synthesizer"].clone()
        };
        assert_eq!(
            say(&Tts::new("aws", None), "ru-RU"),
            json!({"vendor": "aws", "language": "ru-RU", "voice": "Tatyana"}),
            "the script's Twilio voice name is not sent to jambonz"
        );
        assert_eq!(say(&Tts::new("microsoft", None), "ru-RU")["voice"], "ru-RU-SvetlanaNeural");
        assert_eq!(
            say(&Tts::new("custom:yandex", None), "ru-RU"),
            json!({"vendor": "custom:yandex", "language": "ru-RU"}),
            "no voice known for the vendor: jambonz takes the application's default"
        );
        assert_eq!(say(&Tts::new("google", None), "en-US"), json!({"vendor": "google", "language": "en-US"}));
        assert_eq!(say(&Tts::new("google", Some("ru-RU-Standard-C")), "ru-RU")["voice"], "ru-RU-Standard-C");
        assert_eq!(
            say(&Tts::new("google", Some("default")), "ru-RU"),
            json!({"vendor": "google", "language": "ru-RU"})
        );
    }
}
