//! A telephony provider in miniature: places a call against a running server in either dialect
//! (signing its webhooks when given the secret), follows gathers, redirects, recordings and
//! the queue, and reports what the caller hears. `hotline call` and the tests both use it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use quick_xml::events::Event;

use crate::telephony::{Dialect, jambonz, twilio};

/// What the caller is asked for after a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    /// A gather: the caller may press keys or speak.
    Input {
        action_url: String,
        no_input_url: Option<String>,
        num_digits: Option<u32>,
        speech: bool,
    },
    /// A recording after the beep.
    Recording {
        action_url: String,
    },
    /// In the operator queue.
    Queue {
        wait_url: String,
        action_url: String,
    },
    /// Told to leave the queue (an operator took the call): the provider now posts the queue's
    /// action URL, which `leave_queue("leave")` does.
    Left,
    /// Connected to someone else (an operator's phone); the provider posts how that call ended
    /// to `action_url`, which `dial_ends` does.
    Dialed {
        target: String,
        action_url: Option<String>,
    },
    Ended,
}

/// One answer of the server, from the caller's side.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Everything said, in order.
    pub heard: Vec<String>,
    pub waiting: Waiting,
}

impl Turn {
    pub fn text(&self) -> String {
        self.heard.join(" ")
    }
}

/// A webhook as sent: URL, form parameters (Twilio) and JSON body (jambonz).
type Webhook = (String, Vec<(String, String)>, Option<serde_json::Value>);

/// A webhook exactly as it went over the wire, so a load generator can send the same bytes to
/// another server.
#[derive(Debug, Clone, PartialEq)]
pub struct SentWebhook {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Counts a provider's second tries: a webhook that met a connection error or a 5xx is sent
/// once more, the very same request, as Twilio does on its fallback URL.
#[derive(Debug, Default)]
pub struct Retries {
    /// Webhooks sent a second time.
    pub retried: AtomicUsize,
    /// Of those, the ones whose second try failed as well.
    pub failed_twice: AtomicUsize,
}

/// One simulated call.
pub struct Caller {
    http: reqwest::Client,
    base_url: String,
    pub dialect: Dialect,
    pub call_id: String,
    pub from: String,
    pub to: String,
    /// Twilio auth token or jambonz secret, when the server checks signatures.
    pub secret: Option<String>,
    /// The last webhook sent, so a test can deliver it again.
    last: Option<Webhook>,
    /// Every webhook sent, when asked for with [`Caller::keeping_journal`].
    journal: Option<Vec<SentWebhook>>,
    /// When set, a webhook that fails is sent once more (see [`Retries`]).
    retries: Option<Arc<Retries>>,
    pub waiting: Waiting,
    /// The body of the server's last answer, as sent.
    pub last_answer: Option<String>,
    /// A call the hotline placed: the URLs it gave the provider's REST API (see [`Caller::placed`]).
    placed: Option<PlacedUrls>,
}

/// What the hotline gave the provider when it asked for a call (Twilio's `Url` and
/// `StatusCallback`, jambonz's `call_hook` and `call_status_hook`).
#[derive(Debug, Clone)]
struct PlacedUrls {
    answer: String,
    status: String,
}

impl Caller {
    /// A caller for the server at `base_url` (as the server knows itself: its HOTLINE_PUBLIC_URL).
    pub fn new(base_url: &str, dialect: Dialect, from: &str) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build().unwrap_or_default();
        Self::with_http(http, base_url, dialect, from)
    }

    /// A caller sending through `http`, so many callers share one connection pool like the
    /// calls of one provider do.
    pub fn with_http(http: reqwest::Client, base_url: &str, dialect: Dialect, from: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            dialect,
            call_id: match dialect {
                Dialect::Twilio => format!("CA{}", uuid::Uuid::now_v7().simple()),
                Dialect::Jambonz => uuid::Uuid::now_v7().to_string(),
            },
            from: from.to_string(),
            to: "+78005050115".to_string(),
            secret: None,
            last: None,
            journal: None,
            retries: None,
            waiting: Waiting::Ended,
            last_answer: None,
            placed: None,
        }
    }

    /// A call the hotline placed, driven as the provider drives it: `sid` is what the provider
    /// answered the call request with, `to` the called party, `answer_url` and `status_url`
    /// what the request named; the hotline's own number (`from`) is the caller.
    pub fn placed(
        base_url: &str,
        dialect: Dialect,
        sid: &str,
        from: &str,
        to: &str,
        answer_url: &str,
        status_url: &str,
    ) -> Self {
        let mut caller = Self::new(base_url, dialect, from);
        caller.call_id = sid.to_string();
        caller.to = to.to_string();
        caller.placed = Some(PlacedUrls { answer: answer_url.to_string(), status: status_url.to_string() });
        caller
    }

    /// The called party of a placed call picks up: the provider asks the answer URL what to do.
    pub async fn answer(&mut self) -> anyhow::Result<Turn> {
        let url = self.placed.as_ref().map(|p| p.answer.clone()).context("not a call the hotline placed")?;
        self.post(&url, vec![("CallStatus".into(), "in-progress".into())], serde_json::json!({})).await
    }

    /// Keeps every webhook this caller sends, for [`Caller::into_journal`].
    pub fn keeping_journal(mut self) -> Self {
        self.journal = Some(Vec::new());
        self
    }

    /// The webhooks this caller sent, when it kept a journal.
    pub fn into_journal(self) -> Vec<SentWebhook> {
        self.journal.unwrap_or_default()
    }

    /// Sends a webhook that meets a connection error or a 5xx once more, counting it in `retries`.
    pub fn retrying(mut self, retries: Arc<Retries>) -> Self {
        self.retries = Some(retries);
        self
    }

    pub fn with_secret(mut self, secret: Option<String>) -> Self {
        self.secret = secret;
        self
    }

    /// The call comes in on the number's voice URL.
    pub async fn dial(&mut self) -> anyhow::Result<Turn> {
        let url = format!("{}/telephony/{}/voice", self.base_url, self.dialect.as_str());
        self.post(&url, vec![("CallStatus".into(), "ringing".into())], serde_json::json!({"call_status": "ringing"}))
            .await
    }

    /// Presses keys at the current gather.
    pub async fn press(&mut self, digits: &str) -> anyhow::Result<Turn> {
        let url = self.input_url()?;
        self.post(
            &url,
            vec![("Digits".into(), digits.into())],
            serde_json::json!({"reason": "dtmfDetected", "digits": digits}),
        )
        .await
    }

    /// Says something at the current gather.
    pub async fn say(&mut self, speech: &str) -> anyhow::Result<Turn> {
        let url = self.input_url()?;
        let jambonz = serde_json::json!({"reason": "speechDetected",
            "speech": {"is_final": true, "alternatives": [{"transcript": speech, "confidence": 0.9}]}});
        self.post(&url, vec![("SpeechResult".into(), speech.into()), ("Confidence".into(), "0.9".into())], jambonz)
            .await
    }

    /// Stays silent: Twilio falls through the gather to its redirect, jambonz reports a timeout.
    pub async fn silence(&mut self) -> anyhow::Result<Turn> {
        match (&self.waiting, self.dialect) {
            (Waiting::Input { no_input_url: Some(url), .. }, Dialect::Twilio) => {
                let url = url.clone();
                self.post(&url, vec![], serde_json::json!({})).await
            }
            (Waiting::Input { action_url, .. }, Dialect::Jambonz) => {
                let url = action_url.clone();
                self.post(&url, vec![], serde_json::json!({"reason": "timeout"})).await
            }
            (Waiting::Recording { action_url }, _) => {
                let url = action_url.clone();
                self.post(&url, vec![], serde_json::json!({})).await
            }
            (other, _) => bail!("nothing to be silent at: {other:?}"),
        }
    }

    /// Finishes a recording, as the provider reports it.
    pub async fn record(&mut self, recording_url: &str, seconds: i64) -> anyhow::Result<Turn> {
        let Waiting::Recording { action_url } = &self.waiting else { bail!("not recording: {:?}", self.waiting) };
        let url = action_url.clone();
        let params =
            vec![("RecordingUrl".into(), recording_url.into()), ("RecordingDuration".into(), seconds.to_string())];
        self.post(&url, params, serde_json::json!({"recording_url": recording_url, "recording_duration": seconds}))
            .await
    }

    /// One poll of the queue's wait URL.
    pub async fn wait_in_queue(&mut self) -> anyhow::Result<Turn> {
        let Waiting::Queue { wait_url, .. } = &self.waiting else { bail!("not in a queue: {:?}", self.waiting) };
        let url = wait_url.clone();
        let waiting = self.waiting.clone();
        let turn = self
            .post(&url, vec![("QueuePosition".into(), "1".into())], serde_json::json!({"queuePosition": 0}))
            .await?;
        // A poll never moves the caller by itself: after a leave the provider posts the queue's
        // action URL next, which is the queue's to answer.
        self.waiting = waiting;
        Ok(turn)
    }

    /// The caller leaves the queue (`hangup`, `leave`, `bridged`).
    pub async fn leave_queue(&mut self, result: &str) -> anyhow::Result<Turn> {
        let Waiting::Queue { action_url, .. } = &self.waiting else { bail!("not in a queue: {:?}", self.waiting) };
        let url = action_url.clone();
        self.post(&url, vec![("QueueResult".into(), result.into())], serde_json::json!({"queueResult": result})).await
    }

    /// The call put through ends: `completed` after a conversation, or `busy`, `no-answer`,
    /// `failed` when the person was not reached.
    pub async fn dial_ends(&mut self, outcome: &str) -> anyhow::Result<Turn> {
        let Waiting::Dialed { action_url: Some(url), .. } = &self.waiting else {
            bail!("not put through with an action URL: {:?}", self.waiting)
        };
        let url = url.clone();
        self.post(
            &url,
            vec![("DialCallStatus".into(), outcome.into())],
            serde_json::json!({"dial_call_status": outcome}),
        )
        .await
    }

    /// A status callback, as the provider sends them (possibly late or twice).
    pub async fn status(&mut self, status: &str, sequence: i64) -> anyhow::Result<u16> {
        let url = match &self.placed {
            Some(placed) => placed.status.clone(),
            None => format!("{}/telephony/{}/status", self.base_url, self.dialect.as_str()),
        };
        let params =
            self.params(vec![("CallStatus".into(), status.into()), ("SequenceNumber".into(), sequence.to_string())]);
        let body = self.json_body(serde_json::json!({"call_status": status, "sequence": sequence}));
        let response = self.send(&url, &params, &body).await?;
        Ok(response.status().as_u16())
    }

    /// The server now answers at `base_url` (restarted on another port): webhooks already
    /// issued, the last one among them, go there.
    pub fn moved_to(&mut self, base_url: &str) {
        if let Some((url, ..)) = &mut self.last {
            *url = url.replacen(&self.base_url, base_url, 1);
        }
        self.base_url = base_url.to_string();
    }

    /// Delivers the last webhook once more, as a provider retry would.
    pub async fn replay_last(&mut self) -> anyhow::Result<Turn> {
        let (url, params, body) = self.last.clone().context("nothing was sent yet")?;
        let response = self.send(&url, &params, &body).await?;
        self.read_turn(response).await
    }

    /// How the provider names the call's direction: Twilio says `outbound-api` for a call placed
    /// through its REST API, jambonz `outbound`.
    fn direction(&self) -> &'static str {
        match (&self.placed, self.dialect) {
            (None, _) => "inbound",
            (Some(_), Dialect::Twilio) => "outbound-api",
            (Some(_), Dialect::Jambonz) => "outbound",
        }
    }

    fn input_url(&self) -> anyhow::Result<String> {
        match &self.waiting {
            Waiting::Input { action_url, .. } => Ok(action_url.clone()),
            other => bail!("the caller is not at a gather: {other:?}"),
        }
    }

    fn params(&self, extra: Vec<(String, String)>) -> Vec<(String, String)> {
        let mut params = vec![
            ("CallSid".to_string(), self.call_id.clone()),
            ("AccountSid".to_string(), "AC00000000000000000000000000000000".to_string()),
            ("From".to_string(), self.from.clone()),
            ("To".to_string(), self.to.clone()),
            ("Direction".to_string(), self.direction().to_string()),
        ];
        if !extra.iter().any(|(k, _)| k == "CallStatus") {
            params.push(("CallStatus".into(), "in-progress".into()));
        }
        params.extend(extra);
        params
    }

    fn json_body(&self, extra: serde_json::Value) -> Option<serde_json::Value> {
        let mut body = serde_json::json!({
            "call_sid": self.call_id, "from": self.from, "to": self.to, "direction": self.direction(),
            "call_status": "in-progress",
        });
        if let (Some(target), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
            target.extend(extra);
        }
        Some(body)
    }

    async fn post(
        &mut self,
        url: &str,
        extra: Vec<(String, String)>,
        jambonz: serde_json::Value,
    ) -> anyhow::Result<Turn> {
        let params = self.params(extra);
        let body = self.json_body(jambonz);
        self.last = Some((url.to_string(), params.clone(), body.clone()));
        let response = self.send(url, &params, &body).await?;
        self.read_turn(response).await
    }

    async fn send(
        &mut self,
        url: &str,
        params: &[(String, String)],
        body: &Option<serde_json::Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let sent = self.encode(url, params, body)?;
        let mut request = self.http.post(url);
        for (name, value) in &sent.headers {
            request = request.header(*name, value);
        }
        let request = match &mut self.journal {
            Some(journal) => {
                let request = request.body(sent.body.clone());
                journal.push(sent);
                request
            }
            None => request.body(sent.body),
        };
        let Some(retries) = &self.retries else {
            return request.send().await.with_context(|| format!("posting to {url}"));
        };
        let again = request.try_clone().context("a webhook's body can be sent twice")?;
        let first = match request.send().await {
            Ok(response) if !response.status().is_server_error() => return Ok(response),
            Ok(response) => format!("answered {}", response.status()),
            Err(e) => format!("{:#}", anyhow::Error::from(e)),
        };
        retries.retried.fetch_add(1, Ordering::Relaxed);
        let second = match again.send().await {
            Ok(response) if !response.status().is_server_error() => return Ok(response),
            Ok(response) => format!("answered {}", response.status()),
            Err(e) => format!("{:#}", anyhow::Error::from(e)),
        };
        retries.failed_twice.fetch_add(1, Ordering::Relaxed);
        bail!("posting to {url} failed twice: {first}; then {second}")
    }

    /// The webhook's bytes and headers in the caller's dialect, signed when there is a secret.
    fn encode(
        &self,
        url: &str,
        params: &[(String, String)],
        body: &Option<serde_json::Value>,
    ) -> anyhow::Result<SentWebhook> {
        let mut headers = Vec::with_capacity(2);
        let body = match self.dialect {
            Dialect::Twilio => {
                let form: String = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params.iter().map(|(k, v)| (k, v)))
                    .finish();
                headers.push(("content-type", "application/x-www-form-urlencoded".to_string()));
                if let Some(token) = &self.secret {
                    headers.push(("X-Twilio-Signature", twilio::signature(token, url, params)));
                }
                form.into_bytes()
            }
            Dialect::Jambonz => {
                let raw = serde_json::to_vec(body.as_ref().unwrap_or(&serde_json::Value::Null))?;
                headers.push(("content-type", "application/json".to_string()));
                if let Some(secret) = &self.secret {
                    let t = jiff::Timestamp::now().as_second();
                    headers.push(("Jambonz-Signature", format!("t={t},v1={}", jambonz::signature(secret, t, &raw))));
                }
                raw
            }
        };
        Ok(SentWebhook { url: url.to_string(), headers, body })
    }

    async fn read_turn(&mut self, response: reqwest::Response) -> anyhow::Result<Turn> {
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("the server answered {status}: {text}");
        }
        self.last_answer = Some(text.clone());
        let turn = match self.dialect {
            Dialect::Twilio => parse_twiml(&text)?,
            Dialect::Jambonz => parse_jambonz(&text)?,
        };
        self.waiting = turn.waiting.clone();
        Ok(turn)
    }
}

/// `hotline call`: walks a call at the terminal, or from a list of answers.
pub mod cli {
    use std::collections::VecDeque;
    use std::io::{BufRead, Write};

    use super::{Caller, Turn, Waiting};
    use crate::telephony::Dialect;

    fn show(turn: &Turn) {
        for line in &turn.heard {
            println!("  << {line}");
        }
    }

    pub async fn run(
        url: String,
        digits: Option<String>,
        dialect: String,
        from: String,
        secret: Option<String>,
        answer: Option<String>,
    ) -> anyhow::Result<()> {
        let (dialect, secret_var) = match dialect.as_str() {
            "twilio" => (Dialect::Twilio, "HOTLINE_TWILIO_AUTH_TOKEN"),
            "jambonz" => (Dialect::Jambonz, "HOTLINE_JAMBONZ_SECRET"),
            other => anyhow::bail!("--dialect must be twilio or jambonz, not '{other}'"),
        };
        let secret = secret.or_else(|| std::env::var(secret_var).ok().filter(|s| !s.is_empty()));
        let mut answers: Option<VecDeque<String>> =
            digits.map(|d| d.split(',').map(|a| a.trim().to_string()).collect());
        let mut caller;
        let mut turn = match answer {
            None => {
                println!("calling {url} as {from} ({})", dialect.as_str());
                caller = Caller::new(&url, dialect, &from).with_secret(secret);
                caller.dial().await?
            }
            // The status URL the hotline gave beside the voice URL differs only in its path.
            Some(answer_url) => {
                let status_url = answer_url.replacen("/voice?", "/status?", 1);
                let sid = format!("CA{}", uuid::Uuid::now_v7().simple());
                println!("answering a placed call at {from} ({})", dialect.as_str());
                // The caller id the provider shows is the hotline's (HOTLINE_OUTBOUND_FROM's default).
                caller = Caller::placed(&url, dialect, &sid, "+78005050115", &from, &answer_url, &status_url)
                    .with_secret(secret);
                caller.answer().await?
            }
        };
        loop {
            show(&turn);
            turn = match caller.waiting.clone() {
                Waiting::Input { .. } => {
                    let answer = match answers.as_mut() {
                        Some(queue) => match queue.pop_front() {
                            Some(answer) => answer,
                            None => {
                                println!("  [no more answers: the caller hangs up]");
                                caller.status("completed", 99).await?;
                                return Ok(());
                            }
                        },
                        None => {
                            print!("  >> keys (or say:words, empty for silence): ");
                            std::io::stdout().flush()?;
                            let mut line = String::new();
                            if std::io::stdin().lock().read_line(&mut line)? == 0 {
                                caller.status("completed", 99).await?;
                                return Ok(());
                            }
                            line.trim().to_string()
                        }
                    };
                    if answer.is_empty() {
                        println!("  >> (silence)");
                        caller.silence().await?
                    } else if let Some(words) = answer.strip_prefix("say:") {
                        println!("  >> «{words}»");
                        caller.say(words).await?
                    } else {
                        println!("  >> {answer}");
                        caller.press(&answer).await?
                    }
                }
                Waiting::Recording { .. } => {
                    println!("  >> (the caller leaves a 20-second message)");
                    caller.record("https://recordings.example/simulated.wav", 20).await?
                }
                Waiting::Queue { .. } => {
                    println!("  [waiting for an operator]");
                    let poll = caller.wait_in_queue().await?;
                    show(&poll);
                    if poll.waiting == Waiting::Left {
                        println!("  [an operator took the call]");
                        caller.leave_queue("leave").await?
                    } else {
                        println!("  [the caller hangs up while waiting]");
                        caller.leave_queue("hangup").await?;
                        caller.status("completed", 99).await?;
                        return Ok(());
                    }
                }
                Waiting::Left => caller.leave_queue("leave").await?,
                Waiting::Dialed { target, .. } => {
                    println!("  [connected to {target}]");
                    return Ok(());
                }
                Waiting::Ended => {
                    println!("  [call ended]");
                    caller.status("completed", 99).await?;
                    return Ok(());
                }
            };
        }
    }
}

/// Reads a TwiML document the way Twilio would for a caller: what is said, and what it waits for.
pub fn parse_twiml(xml: &str) -> anyhow::Result<Turn> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut heard = Vec::new();
    let mut waiting = Waiting::Ended;
    let mut gather: Option<(String, Option<u32>, bool)> = None;
    let mut stack: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event().context("reading TwiML")? {
            Event::Start(e) => {
                let attrs = attributes(&e)?;
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "Gather" {
                    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    gather = Some((
                        get("action").unwrap_or_default(),
                        get("numDigits").and_then(|d| d.parse().ok()),
                        get("input").is_some_and(|i| i.contains("speech")),
                    ));
                }
                stack.push((name, attrs));
                text.clear();
            }
            Event::Empty(e) => {
                let attrs = attributes(&e)?;
                let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                match e.name().as_ref() {
                    b"Record" => waiting = Waiting::Recording { action_url: get("action") },
                    b"Hangup" | b"Reject" => waiting = Waiting::Ended,
                    b"Leave" => waiting = Waiting::Left,
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t.unescape().context("TwiML text")?),
            Event::End(_) => {
                let Some((name, attrs)) = stack.pop() else { continue };
                let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
                let body = std::mem::take(&mut text).trim().to_string();
                match name.as_str() {
                    "Say" => heard.push(body),
                    "Redirect" => match gather.take() {
                        Some((action_url, num_digits, speech)) => {
                            waiting = Waiting::Input { action_url, no_input_url: Some(body), num_digits, speech }
                        }
                        None => bail!("a <Redirect> outside a gather is not followed by this simulator: {body}"),
                    },
                    "Enqueue" => waiting = Waiting::Queue { wait_url: get("waitUrl"), action_url: get("action") },
                    "Number" | "Sip" => {
                        let action_url =
                            stack.iter().rev().find(|(n, _)| n == "Dial").and_then(|(_, attrs)| {
                                attrs.iter().find(|(k, _)| k == "action").map(|(_, v)| v.clone())
                            });
                        waiting = Waiting::Dialed { target: body, action_url };
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some((action_url, num_digits, speech)) = gather {
        waiting = Waiting::Input { action_url, no_input_url: None, num_digits, speech };
    }
    Ok(Turn { heard, waiting })
}

fn attributes(e: &quick_xml::events::BytesStart) -> anyhow::Result<Vec<(String, String)>> {
    e.attributes()
        .map(|a| {
            let a = a.context("TwiML attribute")?;
            Ok((
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                a.unescape_value().context("TwiML attribute")?.into_owned(),
            ))
        })
        .collect()
}

/// Reads a jambonz verb array the way jambonz would for a caller.
pub fn parse_jambonz(json: &str) -> anyhow::Result<Turn> {
    let verbs: Vec<serde_json::Value> = serde_json::from_str(json).context("a jambonz answer is a JSON array")?;
    let mut heard = Vec::new();
    let mut waiting = Waiting::Ended;
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
    for verb in &verbs {
        match verb.get("verb").and_then(|v| v.as_str()).unwrap_or_default() {
            "say" => heard.push(text(verb, "text")),
            "gather" => {
                if let Some(say) = verb.get("say") {
                    heard.push(text(say, "text"));
                }
                let input = verb.get("input").map(|i| i.to_string()).unwrap_or_default();
                waiting = Waiting::Input {
                    action_url: text(verb, "actionHook"),
                    no_input_url: None,
                    num_digits: verb.get("numDigits").and_then(|n| n.as_u64()).map(|n| n as u32),
                    speech: input.contains("speech"),
                };
            }
            "enqueue" => {
                waiting = Waiting::Queue { wait_url: text(verb, "waitHook"), action_url: text(verb, "actionHook") }
            }
            "dial" => {
                let target = verb["target"][0].get("number").or(verb["target"][0].get("sipUri"));
                let action_url = verb.get("actionHook").and_then(|h| h.as_str()).map(str::to_string);
                waiting = Waiting::Dialed {
                    target: target.and_then(|t| t.as_str()).unwrap_or_default().to_string(),
                    action_url,
                };
            }
            "hangup" | "sip:decline" => waiting = Waiting::Ended,
            "leave" => waiting = Waiting::Left,
            _ => {}
        }
    }
    Ok(Turn { heard, waiting })
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    /// A server on loopback whose first `failures` answers are 502 and the rest one TwiML
    /// document; returns its URL and how many requests it got.
    async fn flaky_server(failures: usize) -> (String, Arc<AtomicUsize>) {
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        let app = axum::Router::new().fallback(move || {
            let count = count.clone();
            async move {
                if count.fetch_add(1, Ordering::SeqCst) < failures {
                    (axum::http::StatusCode::BAD_GATEWAY, "the instance died").into_response()
                } else {
                    "<Response><Say>Здравствуйте!</Say><Hangup/></Response>".into_response()
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, served)
    }

    #[tokio::test]
    async fn a_failed_webhook_is_sent_once_more_when_retrying() {
        let (url, served) = flaky_server(1).await;
        let retries = Arc::new(Retries::default());
        let mut caller = Caller::new(&url, Dialect::Twilio, "+79101234567").retrying(retries.clone());
        let turn = caller.dial().await.unwrap();
        assert_eq!(turn.heard, vec!["Здравствуйте!"]);
        assert_eq!(served.load(Ordering::SeqCst), 2, "the same request, once more");
        assert_eq!(retries.retried.load(Ordering::SeqCst), 1);
        assert_eq!(retries.failed_twice.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_webhook_failing_twice_is_an_error_and_counted() {
        let (url, served) = flaky_server(2).await;
        let retries = Arc::new(Retries::default());
        let mut caller = Caller::new(&url, Dialect::Twilio, "+79101234567").retrying(retries.clone());
        let error = caller.dial().await.unwrap_err().to_string();
        assert!(error.contains("failed twice"), "{error}");
        assert_eq!(served.load(Ordering::SeqCst), 2, "no third try");
        assert_eq!(retries.failed_twice.load(Ordering::SeqCst), 1);

        // A connection refused counts the same way.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let retries = Arc::new(Retries::default());
        let mut caller =
            Caller::new(&format!("http://{closed}"), Dialect::Twilio, "+79101234567").retrying(retries.clone());
        assert!(caller.dial().await.is_err());
        assert_eq!(retries.retried.load(Ordering::SeqCst), 1);
        assert_eq!(retries.failed_twice.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_retrying_a_failed_webhook_is_sent_once() {
        let (url, served) = flaky_server(1).await;
        let mut caller = Caller::new(&url, Dialect::Twilio, "+79101234567");
        assert!(caller.dial().await.is_err());
        assert_eq!(served.load(Ordering::SeqCst), 1);
    }
}
