//! The Twilio dialect (also Telnyx TeXML, SignalWire cXML): `X-Twilio-Signature`, form webhooks, TwiML.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{
    Action, Dialect, Gather, GatherResult, Inbound, Prompt, Provider, ProviderStatus, SignatureError, Voice, Webhook,
    WebhookDoc,
};
use crate::config::Settings;
use crate::store::StoredAnswer;

/// The Twilio dialect as a [`Provider`].
pub struct Twilio;

impl Provider for Twilio {
    const DIALECT: Dialect = Dialect::Twilio;
    const SIGNATURE_HEADER: &'static str = "X-Twilio-Signature";
    const API_DOC: WebhookDoc = WebhookDoc {
        provider: "Twilio",
        signature_checked: "Checked when a Twilio auth token is configured",
        request_content_type: "application/x-www-form-urlencoded",
        request_description: "Twilio's webhook parameters (CallSid, From, To, CallStatus, Digits, SpeechResult, ...)",
        request_schema: <std::collections::HashMap<String, String> as utoipa::PartialSchema>::schema,
        answer_format: "as TwiML",
        answer_content_type: "text/xml",
        answer_schema: <String as utoipa::PartialSchema>::schema,
    };

    fn verify(settings: &Settings, webhook: &Webhook<'_>) -> Result<(), SignatureError> {
        let Some(token) = &settings.twilio_auth_token else { return Ok(()) };
        let url = format!("{}{}", settings.public_url, webhook.path_and_query);
        verify(token.expose(), &url, &parse_form(webhook.body), webhook.signature::<Self>())
    }

    fn parse(webhook: &Webhook<'_>) -> Result<Inbound, String> {
        inbound(&parse_form(webhook.body))
    }

    fn render(_: &Settings, actions: &[Action]) -> StoredAnswer {
        StoredAnswer { content_type: Self::DIALECT.answer_content_type().into(), body: render(actions) }
    }
}

type HmacSha1 = Hmac<Sha1>;

fn keyed(token: &str) -> HmacSha1 {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    HmacSha1::new_from_slice(token.as_bytes()).expect("HMAC accepts keys of any length")
}

/// The MAC over the URL and the parameters, before encoding, so `verify` can compare it in constant time.
fn mac(token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Repeated names (several `Digits`) are ordered by value too, as Twilio's validators do.
    sorted.sort();
    let mut mac = keyed(token);
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// `X-Twilio-Signature` for a form POST: base64(HMAC-SHA1(token, url + sorted name+value pairs)).
pub fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac(token, url, params).finalize().into_bytes())
}

/// The same URL with the scheme's default port added when it has none, or removed when it has it.
///
/// Twilio has signed both spellings over the years (twilio-python#392, twilio-csharp#44), and the URL
/// we rebuild from the configured public base cannot know which one the number's settings used.
fn default_port_variant(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, host_port) = authority.split_at(host_start);
    // An IPv6 literal is full of colons; only a colon after its closing bracket starts a port.
    let bracket_end = host_port.rfind(']').map_or(0, |i| i + 1);
    match host_port[bracket_end..].rfind(':') {
        Some(i) => {
            let colon = bracket_end + i;
            (&host_port[colon + 1..] == default).then(|| format!("{scheme}://{userinfo}{}{tail}", &host_port[..colon]))
        }
        None => Some(format!("{scheme}://{userinfo}{host_port}:{default}{tail}")),
    }
}

/// Checks `X-Twilio-Signature` against the URL as given and against its default-port twin.
pub fn verify(token: &str, url: &str, params: &[(String, String)], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    // Anything that is not base64 cannot be a signature Twilio made; refusing it as a mismatch keeps
    // the caller's handling to one case.
    let expected = BASE64.decode(header.trim()).map_err(|_| SignatureError::Mismatch)?;
    let mut urls = vec![url.to_owned()];
    urls.extend(default_port_variant(url));
    // Check every variant so the time taken does not reveal which spelling matched.
    let mut matched = false;
    for candidate in &urls {
        matched |= mac(token, candidate, params).verify_slice(&expected).is_ok();
    }
    if matched { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// Decodes a form body into name/value pairs, keeping order and repeated names (the signature needs both).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        // Twilio sends empty values for fields it has nothing for (a withheld `From`).
        .filter(|v| !v.is_empty())
}

fn status(value: &str) -> Option<ProviderStatus> {
    Some(match value {
        // Before answer, these all mean the same to the IVR: the call exists but nobody talks yet.
        "queued" | "initiated" | "ringing" => ProviderStatus::Ringing,
        "in-progress" => ProviderStatus::InProgress,
        "completed" => ProviderStatus::Completed,
        "busy" => ProviderStatus::Busy,
        "no-answer" => ProviderStatus::NoAnswer,
        "failed" => ProviderStatus::Failed,
        "canceled" => ProviderStatus::Canceled,
        _ => return None,
    })
}

/// Normalises a Twilio webhook's form parameters; only a missing `CallSid` is an error.
pub fn inbound(params: &[(String, String)]) -> Result<Inbound, String> {
    let call_id = param(params, "CallSid").ok_or("the Twilio webhook has no CallSid")?;
    let gather = if let Some(digits) = param(params, "Digits") {
        Some(GatherResult::Digits(digits.to_owned()))
    } else {
        param(params, "SpeechResult").map(|transcript| GatherResult::Speech {
            transcript: transcript.to_owned(),
            confidence: param(params, "Confidence")
                .and_then(|c| c.trim().parse::<f32>().ok())
                .filter(|c| c.is_finite()),
        })
    };
    Ok(Inbound {
        call_id: call_id.to_owned(),
        from: param(params, "From").map(str::to_owned),
        to: param(params, "To").map(str::to_owned),
        status: param(params, "CallStatus").and_then(status),
        gather,
        recording_url: param(params, "RecordingUrl").map(str::to_owned),
        recording_duration_s: param(params, "RecordingDuration").and_then(|d| d.trim().parse().ok()),
        queue_result: param(params, "QueueResult").map(str::to_owned),
        dial_status: param(params, "DialCallStatus").map(str::to_owned),
        sequence: param(params, "SequenceNumber").and_then(|s| s.trim().parse().ok()),
        // From the URL's query, which only the shared handlers see.
        placed: None,
    })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Appends ` name="value"`, escaped.
fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&escape(value));
    out.push('"');
}

fn key(finish_on_key: Option<char>) -> String {
    // An empty finishOnKey is how TwiML says "no finish key"; leaving it out would mean `#`.
    finish_on_key.map(String::from).unwrap_or_default()
}

fn say(out: &mut String, text: &str, voice: &Voice) {
    out.push_str("<Say");
    attr(out, "language", &voice.language);
    if let Some(name) = &voice.name {
        attr(out, "voice", name);
    }
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</Say>");
}

fn play(out: &mut String, url: &str) {
    out.push_str("<Play>");
    out.push_str(&escape(url));
    out.push_str("</Play>");
}

fn pause(out: &mut String, seconds: u32) {
    out.push_str("<Pause");
    attr(out, "length", &seconds.to_string());
    out.push_str("/>");
}

fn redirect(out: &mut String, url: &str) {
    out.push_str("<Redirect method=\"POST\">");
    out.push_str(&escape(url));
    out.push_str("</Redirect>");
}

fn gather(out: &mut String, g: &Gather) {
    let input = match (g.dtmf, g.speech) {
        (true, true) => "dtmf speech",
        (false, true) => "speech",
        // A gather that listens for nothing is a mistake upstream; Twilio's own default is dtmf.
        _ => "dtmf",
    };
    out.push_str("<Gather");
    attr(out, "input", input);
    attr(out, "action", &g.action_url);
    attr(out, "method", "POST");
    attr(out, "timeout", &g.timeout_s.to_string());
    if let Some(n) = g.num_digits {
        attr(out, "numDigits", &n.to_string());
    }
    attr(out, "finishOnKey", &key(g.finish_on_key));
    attr(out, "language", &g.language);
    if !g.hints.is_empty() {
        attr(out, "hints", &g.hints.join(","));
    }
    attr(out, "actionOnEmptyResult", "false");
    out.push('>');
    for prompt in &g.prompts {
        match prompt {
            Prompt::Say { text, voice } => say(out, text, voice),
            Prompt::Play { url } => play(out, url),
            Prompt::Pause { seconds } => pause(out, *seconds),
        }
    }
    out.push_str("</Gather>");
    // On silence Twilio skips the action and runs the next verb, so the next verb is the no-input path.
    redirect(out, &g.no_input_url);
}

/// Renders the actions as one TwiML document.
pub fn render(actions: &[Action]) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    for action in actions {
        match action {
            Action::Say { text, voice } => say(&mut out, text, voice),
            Action::Play { url } => play(&mut out, url),
            Action::Pause { seconds } => pause(&mut out, *seconds),
            Action::Gather(g) => gather(&mut out, g),
            Action::Record { action_url, max_length_s, timeout_s, finish_on_key, play_beep } => {
                out.push_str("<Record");
                attr(&mut out, "action", action_url);
                attr(&mut out, "method", "POST");
                attr(&mut out, "maxLength", &max_length_s.to_string());
                attr(&mut out, "timeout", &timeout_s.to_string());
                attr(&mut out, "finishOnKey", &key(*finish_on_key));
                attr(&mut out, "playBeep", if *play_beep { "true" } else { "false" });
                out.push_str("/>");
            }
            Action::Enqueue { queue, wait_url, action_url } => {
                out.push_str("<Enqueue");
                attr(&mut out, "action", action_url);
                attr(&mut out, "method", "POST");
                attr(&mut out, "waitUrl", wait_url);
                attr(&mut out, "waitUrlMethod", "POST");
                out.push('>');
                out.push_str(&escape(queue));
                out.push_str("</Enqueue>");
            }
            Action::Leave => out.push_str("<Leave/>"),
            Action::Dial { target, caller_id, timeout_s, action_url } => {
                out.push_str("<Dial");
                attr(&mut out, "timeout", &timeout_s.to_string());
                if let Some(url) = action_url {
                    attr(&mut out, "action", url);
                }
                if let Some(id) = caller_id {
                    attr(&mut out, "callerId", id);
                }
                out.push('>');
                let noun = if target.starts_with("sip:") { "Sip" } else { "Number" };
                out.push_str(&format!("<{noun}>{}</{noun}>", escape(target)));
                out.push_str("</Dial>");
            }
            Action::Redirect { url } => redirect(&mut out, url),
            Action::Hangup => out.push_str("<Hangup/>"),
            Action::Reject { busy } => {
                out.push_str("<Reject");
                attr(&mut out, "reason", if *busy { "busy" } else { "rejected" });
                out.push_str("/>");
            }
        }
    }
    out.push_str("</Response>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn call_params() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    #[test]
    fn signature_matches_the_twilio_vector() {
        assert_eq!(signature(TOKEN, URL, &call_params()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    #[test]
    fn signature_matches_the_port_vectors() {
        let p = call_params();
        assert_eq!(
            signature(TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2", &p),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        assert_eq!(
            signature(TOKEN, "http://mycompany.com:80/myapp.php?foo=1&bar=2", &p),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        );
        assert_eq!(
            signature(TOKEN, "http://mycompany.com:1234/myapp.php?foo=1&bar=2", &p),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        );
    }

    #[test]
    fn signature_sorts_repeated_names_by_value() {
        let p = pairs(&[("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]);
        assert_eq!(signature(TOKEN, URL, &p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn verify_accepts_the_exact_signature() {
        assert_eq!(verify(TOKEN, URL, &call_params(), Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")), Ok(()));
    }

    #[test]
    fn verify_accepts_a_signature_made_with_the_default_port() {
        // Signed with :443, checked against the URL without it.
        assert_eq!(verify(TOKEN, URL, &call_params(), Some("kvajT1Ptam85bY51eRf/AJRuM3w=")), Ok(()));
        // Signed without the port, checked against the URL with :443.
        assert_eq!(
            verify(
                TOKEN,
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &call_params(),
                Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
            ),
            Ok(())
        );
        // The same for http and :80.
        let p = call_params();
        let plain = signature(TOKEN, "http://mycompany.com/myapp.php?foo=1&bar=2", &p);
        assert_eq!(verify(TOKEN, "http://mycompany.com:80/myapp.php?foo=1&bar=2", &p, Some(&plain)), Ok(()));
        assert_eq!(
            verify(TOKEN, "http://mycompany.com/myapp.php?foo=1&bar=2", &p, Some("0ZXoZLH/DfblKGATFgpif+LLRf4=")),
            Ok(())
        );
    }

    #[test]
    fn verify_does_not_drop_a_non_default_port() {
        assert_eq!(
            verify(TOKEN, URL, &call_params(), Some("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn verify_refuses_a_tampered_parameter() {
        let mut p = call_params();
        p[1].1 = "9".into();
        assert_eq!(verify(TOKEN, URL, &p, Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_refuses_a_missing_header() {
        assert_eq!(verify(TOKEN, URL, &call_params(), None), Err(SignatureError::Missing));
    }

    #[test]
    fn verify_refuses_a_header_that_is_not_base64() {
        assert_eq!(verify(TOKEN, URL, &call_params(), Some("not base64 at all!")), Err(SignatureError::Mismatch));
        assert_eq!(verify(TOKEN, URL, &call_params(), Some("")), Err(SignatureError::Mismatch));
    }

    #[test]
    fn port_variants() {
        assert_eq!(default_port_variant("https://a.example/x?y=1").as_deref(), Some("https://a.example:443/x?y=1"));
        assert_eq!(default_port_variant("https://a.example:443").as_deref(), Some("https://a.example"));
        assert_eq!(default_port_variant("http://u:p@a.example:80/").as_deref(), Some("http://u:p@a.example/"));
        assert_eq!(default_port_variant("https://[::1]/x").as_deref(), Some("https://[::1]:443/x"));
        assert_eq!(default_port_variant("https://a.example:8443/x"), None);
        assert_eq!(default_port_variant("ftp://a.example/x"), None);
        assert_eq!(default_port_variant("not a url"), None);
    }

    #[test]
    fn parse_form_keeps_order_and_repeats() {
        let p = parse_form(
            b"CallSid=CA1&Digits=5678&From=%2B79001234567&Digits=1234&SpeechResult=%D0%B4%D0%B0+%D0%BD%D0%B5%D1%82",
        );
        assert_eq!(
            p,
            pairs(&[
                ("CallSid", "CA1"),
                ("Digits", "5678"),
                ("From", "+79001234567"),
                ("Digits", "1234"),
                ("SpeechResult", "да нет"),
            ])
        );
    }

    #[test]
    fn inbound_reads_digits_and_call_fields() {
        let p = parse_form(
            b"CallSid=CA1&From=%2B79001234567&To=%2B78002000000&CallStatus=in-progress&Digits=2&SequenceNumber=3",
        );
        let ev = inbound(&p).expect("valid");
        assert_eq!(
            ev,
            Inbound {
                call_id: "CA1".into(),
                from: Some("+79001234567".into()),
                to: Some("+78002000000".into()),
                status: Some(ProviderStatus::InProgress),
                gather: Some(GatherResult::Digits("2".into())),
                sequence: Some(3),
                ..Inbound::default()
            }
        );
    }

    #[test]
    fn inbound_reads_speech_with_confidence() {
        let p = pairs(&[("CallSid", "CA1"), ("SpeechResult", "Берёзовка"), ("Confidence", "0.87")]);
        assert_eq!(
            inbound(&p).expect("valid").gather,
            Some(GatherResult::Speech { transcript: "Берёзовка".into(), confidence: Some(0.87) })
        );
        let p = pairs(&[("CallSid", "CA1"), ("SpeechResult", "Берёзовка"), ("Confidence", "high")]);
        assert_eq!(
            inbound(&p).expect("valid").gather,
            Some(GatherResult::Speech { transcript: "Берёзовка".into(), confidence: None })
        );
    }

    #[test]
    fn inbound_leaves_silence_to_the_caller() {
        let p = pairs(&[("CallSid", "CA1"), ("Digits", ""), ("CallStatus", "in-progress")]);
        assert_eq!(inbound(&p).expect("valid").gather, None);
    }

    #[test]
    fn inbound_reads_recording_and_queue_fields() {
        let p = pairs(&[
            ("CallSid", "CA1"),
            ("RecordingUrl", "https://api.twilio.com/rec/RE1"),
            ("RecordingDuration", "42"),
            ("QueueResult", "hangup"),
        ]);
        let ev = inbound(&p).expect("valid");
        assert_eq!(ev.recording_url.as_deref(), Some("https://api.twilio.com/rec/RE1"));
        assert_eq!(ev.recording_duration_s, Some(42));
        assert_eq!(ev.queue_result.as_deref(), Some("hangup"));
    }

    #[test]
    fn inbound_maps_every_status() {
        let cases = [
            ("queued", Some(ProviderStatus::Ringing)),
            ("initiated", Some(ProviderStatus::Ringing)),
            ("ringing", Some(ProviderStatus::Ringing)),
            ("in-progress", Some(ProviderStatus::InProgress)),
            ("completed", Some(ProviderStatus::Completed)),
            ("busy", Some(ProviderStatus::Busy)),
            ("no-answer", Some(ProviderStatus::NoAnswer)),
            ("failed", Some(ProviderStatus::Failed)),
            ("canceled", Some(ProviderStatus::Canceled)),
            ("answered", None),
        ];
        for (value, expected) in cases {
            let p = pairs(&[("CallSid", "CA1"), ("CallStatus", value)]);
            assert_eq!(inbound(&p).expect("valid").status, expected, "{value}");
        }
    }

    #[test]
    fn inbound_without_call_sid_is_an_error() {
        assert!(inbound(&pairs(&[("From", "+79001234567")])).is_err());
        assert!(inbound(&pairs(&[("CallSid", "")])).is_err());
    }

    fn ru(name: Option<&str>) -> Voice {
        Voice { language: "ru-RU".into(), name: name.map(str::to_owned) }
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
                action_url: "https://h.example/t/twilio/g?step=menu&n=1".into(),
                no_input_url: "https://h.example/t/twilio/g?step=menu&silence=1".into(),
                prompts: vec![
                    Prompt::Say { text: "Нажмите 1".into(), voice: ru(None) },
                    Prompt::Pause { seconds: 1 },
                    Prompt::Play { url: "https://h.example/b.mp3".into() },
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
                prompts: vec![],
            }),
            Action::Record {
                action_url: "https://h.example/rec".into(),
                max_length_s: 120,
                timeout_s: 5,
                finish_on_key: Some('#'),
                play_beep: true,
            },
            Action::Record {
                action_url: "https://h.example/rec2".into(),
                max_length_s: 60,
                timeout_s: 3,
                finish_on_key: None,
                play_beep: false,
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
        let expected = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
            r#"<Say language="ru-RU" voice="Polly.Tatyana">Ток &lt;220 В&gt; &amp; &quot;фаза&quot; &apos;ноль&apos;</Say>"#,
            r#"<Play>https://h.example/a.mp3?x=1&amp;y=2</Play>"#,
            r#"<Pause length="2"/>"#,
            r##"<Gather input="dtmf speech" action="https://h.example/t/twilio/g?step=menu&amp;n=1" method="POST" timeout="5" numDigits="1" finishOnKey="#" language="ru-RU" hints="Берёзовка,Липки" actionOnEmptyResult="false">"##,
            r#"<Say language="ru-RU">Нажмите 1</Say><Pause length="1"/><Play>https://h.example/b.mp3</Play>"#,
            r#"</Gather>"#,
            r#"<Redirect method="POST">https://h.example/t/twilio/g?step=menu&amp;silence=1</Redirect>"#,
            r#"<Gather input="dtmf" action="https://h.example/g2" method="POST" timeout="7" finishOnKey="" language="ru-RU" actionOnEmptyResult="false"></Gather>"#,
            r#"<Redirect method="POST">https://h.example/g2/none</Redirect>"#,
            r##"<Record action="https://h.example/rec" method="POST" maxLength="120" timeout="5" finishOnKey="#" playBeep="true"/>"##,
            r#"<Record action="https://h.example/rec2" method="POST" maxLength="60" timeout="3" finishOnKey="" playBeep="false"/>"#,
            r#"<Enqueue action="https://h.example/left" method="POST" waitUrl="https://h.example/wait" waitUrlMethod="POST">operators</Enqueue>"#,
            r#"<Leave/>"#,
            r#"<Dial timeout="30" action="https://h.example/dialed" callerId="+78002000000"><Number>+78001234567</Number></Dial>"#,
            r#"<Dial timeout="20"><Sip>sip:duty@pbx.example</Sip></Dial>"#,
            r#"<Redirect method="POST">https://h.example/next</Redirect>"#,
            r#"<Hangup/>"#,
            r#"<Reject reason="busy"/>"#,
            r#"<Reject reason="rejected"/>"#,
            r#"</Response>"#,
        );
        assert_eq!(render(&actions), expected);
    }

    #[test]
    fn render_nothing_is_an_empty_response() {
        assert_eq!(render(&[]), r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#);
    }
}
