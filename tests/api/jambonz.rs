//! jambonz's own verb specifications (`@jambonz/verb-specifications` 0.1.13, vendored in
//! tests/jambonz with its licence and a note of where it came from): every verb our renderer
//! emits, and every answer the default scripts and the webhook layer give a jambonz call, pass
//! them. jambonz checks an application's verbs against these before it runs them, so an answer
//! that fails here is one a real jambonz refuses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hotline::config::Settings;
use hotline::ivr::engine::{self, CallState, Effects, Input, StepUrls};
use hotline::ivr::flow::NodeKind;
use hotline::telephony::jambonz::{self, Jambonz, Tts};
use hotline::telephony::{Action, Dialect, Gather, Prompt, Voice};
use hotline::tools::simulator::{Caller, Waiting};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb};

/// A port of the package's `jambonz-app-json-validation.js` (`validate`, `validateVerb`): the
/// same walk, the same rules, the same messages, with JavaScript's `typeof` where it judges
/// types.
mod spec {
    use std::sync::LazyLock;

    use serde_json::{Map, Value};

    static SPECS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
        serde_json::from_str(include_str!("../jambonz/specs.json")).expect("the vendored specs are JSON")
    });

    /// `typeof value` in JavaScript.
    fn type_of(value: &Value) -> &'static str {
        match value {
            Value::Null | Value::Array(_) | Value::Object(_) => "object",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
        }
    }

    /// Verb synonyms, as `applyVerbTransform` maps them.
    fn canonical(name: &str, data: Value) -> (String, Value) {
        let (verb, vendor) = match name {
            "stream" => ("listen", None),
            "s2s" => ("llm", None),
            "openai_s2s" => ("llm", Some("openai")),
            "microsoft_s2s" => ("llm", Some("microsoft")),
            "google_s2s" => ("llm", Some("google")),
            "elevenlabs_s2s" => ("llm", Some("elevenlabs")),
            "deepgram_s2s" => ("llm", Some("deepgram")),
            "voiceagent_s2s" => ("llm", Some("voiceagent")),
            "ultravox_s2s" => ("llm", Some("ultravox")),
            other => return (other.to_string(), data),
        };
        let data = match (vendor, data) {
            (Some(vendor), Value::Object(mut o)) => {
                o.entry("vendor").or_insert_with(|| Value::from(vendor));
                Value::Object(o)
            }
            (_, data) => data,
        };
        (verb.to_string(), data)
    }

    /// `validate(logger, obj)`: a jambonz application document.
    pub fn validate(document: &Value) -> Result<(), String> {
        let verbs = document.as_array().ok_or("malformed jambonz payload: must be array")?;
        for task in verbs {
            let object = task.as_object().ok_or("malformed jambonz payload: must be array of objects")?;
            let (name, data) = if let Some(verb) = object.get("verb") {
                let name = verb.as_str().ok_or("malformed jambonz payload: verb is not a string")?;
                let rest: Map<String, Value> =
                    object.iter().filter(|(k, _)| *k != "verb").map(|(k, v)| (k.clone(), v.clone())).collect();
                canonical(name, Value::Object(rest))
            } else if object.len() == 1 {
                let (name, data) = object.iter().next().expect("one entry");
                canonical(name, data.clone())
            } else {
                return Err("malformed jambonz payload: missing verb property".into());
            };
            validate_verb(&name, &data)?;
        }
        Ok(())
    }

    /// The keys `for (const dKey in data)` visits.
    fn keys_of(data: &Value) -> Vec<(String, Value)> {
        match data {
            Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Value::Array(a) => a.iter().enumerate().map(|(i, v)| (i.to_string(), v.clone())).collect(),
            Value::String(s) => {
                s.chars().enumerate().map(|(i, c)| (i.to_string(), Value::from(c.to_string()))).collect()
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => Vec::new(),
        }
    }

    /// `validateVerb(name, data, logger)`.
    pub fn validate_verb(name: &str, data: &Value) -> Result<(), String> {
        let spec = SPECS.get(name).ok_or_else(|| format!("invalid instruction: {name}"))?;
        let properties = spec["properties"].as_object().cloned().unwrap_or_default();
        let mut required: Vec<String> = spec
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        for (key, value) in keys_of(data) {
            let Some(property) = properties.get(&key) else {
                if key == "_" {
                    continue;
                }
                return Err(format!("{name}: unknown property {key}"));
            };
            match property {
                Value::String(t) if t == "array" => {
                    if !value.is_array() {
                        return Err(format!("{name}: property {key} is not an array"));
                    }
                }
                Value::String(t) if t.contains('|') => {
                    let types: Vec<&str> = t.split('|').map(str::trim).collect();
                    let fits = types.contains(&type_of(&value)) || (types.contains(&"array") && value.is_array());
                    if !fits {
                        return Err(format!(
                            "{name}: property {key} has invalid data type, must be one of {}",
                            types.join(",")
                        ));
                    }
                }
                Value::String(t) if ["number", "string", "object", "boolean"].contains(&t.as_str()) => {
                    if type_of(&value) != t {
                        return Err(format!("{name}: property {key} has invalid data type"));
                    }
                }
                Value::Array(items) if items.first().and_then(Value::as_str).is_some_and(|s| s.starts_with('#')) => {
                    let nested = &items[0].as_str().expect("checked")[1..];
                    // `for (const item of dVal)` throws on what is not iterable.
                    let list = value.as_array().ok_or_else(|| format!("{name}: property {key} is not iterable"))?;
                    for item in list {
                        validate_verb(nested, item)?;
                    }
                }
                Value::Array(_) | Value::Object(_) => {
                    let kind = property.get("type").and_then(Value::as_str).unwrap_or_default();
                    assert!(
                        ["number", "string", "object", "boolean"].contains(&kind),
                        "invalid or missing type in spec {property}"
                    );
                    if let (Some(allowed), "string") = (property.get("enum").and_then(Value::as_array), kind) {
                        if !allowed.contains(&value) {
                            let allowed: Vec<String> =
                                allowed.iter().map(|a| a.as_str().unwrap_or_default().to_string()).collect();
                            let shown = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                            return Err(format!("invalid value {shown} must be one of {}", allowed.join(",")));
                        }
                    }
                }
                Value::String(t) if t.starts_with('#') => validate_verb(&t[1..], &value)?,
                other => panic!("invalid spec {other}"),
            }
            required.retain(|r| *r != key);
        }
        if !required.is_empty() {
            return Err(format!("{name}: missing value for {}", required.join(",")));
        }
        Ok(())
    }
}

/// The verbs of a document, a gather's nested prompt as `gather+say` or `gather+play`.
fn verbs_of(document: &Value) -> Vec<String> {
    let mut verbs = Vec::new();
    for verb in document.as_array().into_iter().flatten() {
        let name = verb["verb"].as_str().unwrap_or_default().to_string();
        for nested in ["say", "play"] {
            if name == "gather" && verb.get(nested).is_some() {
                verbs.push(format!("gather+{nested}"));
            }
        }
        verbs.push(name);
    }
    verbs
}

/// Validates one answer, naming where it came from when it fails.
fn check(document: &Value, from: &str, seen: &mut BTreeSet<String>) {
    if let Err(problem) = spec::validate(document) {
        panic!("{from}: jambonz would refuse this answer ({problem}):\n{document:#}");
    }
    seen.extend(verbs_of(document));
}

#[test]
fn the_port_judges_as_jambonz_does() {
    // Each refusal as the package's own validator words it (checked against it with node).
    let cases = [
        (
            json!([{"verb": "say", "text": "Алло", "synthesizer": {"language": "ru-RU", "voice": "Polly.Tatyana"}}]),
            Err("synthesizer: missing value for vendor"),
        ),
        (json!([{"verb": "say", "text": "Алло", "synthesizer": {"vendor": "google", "language": "ru-RU"}}]), Ok(())),
        (json!([{"say": {"text": "Алло"}}]), Ok(())),
        (json!([{"verb": "say", "text": "Алло", "colour": "red"}]), Err("say: unknown property colour")),
        (json!([{"verb": "pause", "length": "2"}]), Err("pause: property length has invalid data type")),
        (json!([{"verb": "pause"}]), Err("pause: missing value for length")),
        (
            json!([{"verb": "dial", "target": [{"type": "fax", "number": "+7"}]}]),
            Err("invalid value fax must be one of phone,sip,user,teams"),
        ),
        (json!([{"verb": "dial", "timeout": 30}]), Err("dial: missing value for target")),
        (
            json!([{"verb": "redirect", "actionHook": 5}]),
            Err("redirect: property actionHook has invalid data type, must be one of object,string"),
        ),
        (json!([{"verb": "gather", "input": "digits"}]), Err("gather: property input is not an array")),
        (json!([{"verb": "shout", "text": "Алло"}]), Err("invalid instruction: shout")),
        (json!([{"verb": "say"}, {"verb": "hangup"}]), Ok(())),
        (json!({"verb": "hangup"}), Err("malformed jambonz payload: must be array")),
        (json!([{"text": "Алло", "loop": 2}]), Err("malformed jambonz payload: missing verb property")),
    ];
    for (document, expected) in cases {
        assert_eq!(spec::validate(&document), expected.map_err(str::to_string), "{document}");
    }
}

fn ru() -> Voice {
    // The scripts' voice name is Twilio's; the jambonz renderer must not pass it on.
    Voice { language: "ru-RU".into(), name: Some("Polly.Tatyana".into()) }
}

/// One action of every kind the renderer knows, a gather with a spoken and one with a played prompt.
fn every_action() -> Vec<Action> {
    let gather = |prompts: Vec<Prompt>, speech: bool| {
        Action::Gather(Gather {
            dtmf: true,
            speech,
            num_digits: Some(1),
            finish_on_key: Some('#'),
            timeout_s: 5,
            hints: vec!["Углич".into()],
            language: "ru-RU".into(),
            action_url: "https://h.example/telephony/jambonz/step/1".into(),
            no_input_url: "https://h.example/telephony/jambonz/step/1".into(),
            prompts,
        })
    };
    vec![
        Action::Say { text: "Здравствуйте!".into(), voice: ru() },
        Action::Play { url: "https://h.example/a.mp3".into() },
        Action::Pause { seconds: 2 },
        gather(vec![Prompt::Say { text: "Нажмите 1.".into(), voice: ru() }, Prompt::Pause { seconds: 1 }], true),
        gather(vec![Prompt::Play { url: "https://h.example/b.mp3".into() }], false),
        Action::Enqueue {
            queue: "operators".into(),
            wait_url: "https://h.example/telephony/jambonz/wait".into(),
            action_url: "https://h.example/telephony/jambonz/step/2".into(),
        },
        Action::Leave,
        Action::Dial {
            target: "+79990001122".into(),
            caller_id: Some("+78005050115".into()),
            timeout_s: 30,
            action_url: Some("https://h.example/telephony/jambonz/step/3".into()),
        },
        Action::Dial { target: "sip:olga@pbx.example".into(), caller_id: None, timeout_s: 20, action_url: None },
        Action::Redirect { url: "https://h.example/telephony/jambonz/step/4".into() },
        Action::Hangup,
        Action::Reject { busy: true },
        Action::Reject { busy: false },
    ]
}

#[test]
fn every_verb_the_renderer_emits_passes_the_verb_specifications() {
    let mut seen = BTreeSet::new();
    let ttses = [
        Tts::default(),
        Tts::new("aws", None),
        Tts::new("microsoft", None),
        Tts::new("custom:yandex", None),
        Tts::new("google", Some("ru-RU-Standard-C")),
        Tts::new("google", Some("default")),
    ];
    for tts in &ttses {
        let document = jambonz::render(&every_action(), tts);
        check(&document, &format!("{tts:?}"), &mut seen);
        // Every spoken prompt names the vendor: without it jambonz refuses the whole answer.
        for say in
            document.as_array().unwrap().iter().filter_map(|v| if v["verb"] == "say" { Some(v) } else { v.get("say") })
        {
            assert_eq!(say["synthesizer"]["vendor"], tts.vendor.as_str(), "{say}");
            assert_ne!(say["synthesizer"]["voice"], "Polly.Tatyana", "a Twilio voice name reached jambonz: {say}");
        }
    }
    let expected: BTreeSet<String> = [
        "say",
        "play",
        "pause",
        "gather",
        "gather+say",
        "gather+play",
        "enqueue",
        "leave",
        "dial",
        "redirect",
        "hangup",
        "sip:decline",
    ]
    .iter()
    .map(|v| v.to_string())
    .collect();
    assert_eq!(seen, expected, "the walk covers every verb the renderer emits");
}

/// Effects that take every outcome of every action in turn (by `seed`) and fill in what the
/// action sets, so the walk reaches every branch of the scripts without a database.
struct Explorer {
    seed: usize,
    calls: usize,
}

impl Effects for Explorer {
    async fn perform(
        &mut self,
        action: &str,
        _: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        _: &mut Option<hotline::tickets::TicketNumber>,
    ) -> anyhow::Result<String> {
        let spec = hotline::ivr::actions::find(action).expect("a known action");
        for var in spec.sets {
            let value = match *var {
                "settlement" => "Углич",
                "ticket_number" => "100001",
                "duty_phone" => "+79990001122",
                "wait_range" => "от двух до пяти минут",
                "settlement_choices" => "Углич — нажмите 1. Мышкин — нажмите 2.",
                _ => "по данным диспетчерской",
            };
            vars.insert(var.to_string(), value.to_string());
        }
        self.calls += 1;
        Ok(spec.outcomes[(self.seed + self.calls) % spec.outcomes.len()].to_string())
    }

    async fn settlement_names(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(vec!["Углич".into(), "Мышкин".into()])
    }
}

/// What a caller can do at a node that waits for them.
fn inputs_at(kind: &NodeKind) -> Vec<Input> {
    let digits = |d: &str| Input::Digits(d.to_string());
    match kind {
        NodeKind::Menu { branches, gather, .. } => {
            let mut inputs: Vec<Input> = branches.keys().map(|k| digits(k)).collect();
            inputs.extend([digits("*"), digits("9"), digits("0"), digits("7"), Input::Silence]);
            if gather.speech {
                inputs.push(Input::Speech("Углич".into()));
            }
            inputs
        }
        NodeKind::Capture { .. } => vec![
            digits("152610"),
            digits("000000"),
            digits("12345#"),
            Input::Speech("Углич".into()),
            digits("*"),
            digits("0"),
            Input::Silence,
        ],
        NodeKind::Record { .. } => vec![
            Input::Recording { url: Some("https://recordings.example/1.wav".into()), duration_s: Some(20) },
            Input::Silence,
        ],
        NodeKind::Enqueue { .. } => vec![Input::LeftQueue("hangup".into()), Input::LeftQueue("leave".into())],
        NodeKind::Dial { .. } => vec![Input::DialEnded("busy".into()), Input::DialEnded("completed".into())],
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn every_answer_of_the_default_scripts_passes_the_verb_specifications() {
    let settings = Settings::from_values(&HashMap::new()).unwrap();
    let flow = hotline::ivr::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-scripts")).unwrap();
    let urls = StepUrls {
        action: "http://127.0.0.1:8080/telephony/jambonz/step/2".into(),
        no_input: "http://127.0.0.1:8080/telephony/jambonz/step/2".into(),
        wait: "http://127.0.0.1:8080/telephony/jambonz/wait".into(),
    };
    let mut seen = BTreeSet::new();
    let mut answers = 0;
    let mut waiting_nodes: Vec<&String> = flow.nodes.keys().collect();
    waiting_nodes.sort();
    for seed in 0..12 {
        let mut effects = Explorer { seed, calls: 0 };
        let start = engine::step(&flow, CallState::default(), Input::Start, &urls, &mut effects).await.unwrap();
        check(&hotline_answer(&settings, &flow.phrases, &start.actions), "the greeting", &mut seen);
        answers += 1;
        for id in &waiting_nodes {
            let node = &flow.nodes[*id];
            for input in inputs_at(&node.kind) {
                // Fresh at the question, and with its retries used up.
                for tries in [0, 9] {
                    let state = CallState { node: (*id).clone(), tries, ..CallState::default() };
                    let step = engine::step(&flow, state, input.clone(), &urls, &mut effects)
                        .await
                        .unwrap_or_else(|e| panic!("{id} on {input:?}: {e:#}"));
                    check(
                        &hotline_answer(&settings, &flow.phrases, &step.actions),
                        &format!("{id} on {input:?}"),
                        &mut seen,
                    );
                    answers += 1;
                }
            }
        }
    }
    assert!(answers > 1000, "the walk gave {answers} answers");

    // What the webhook layer adds around the scripts: the queue's waits and its leave, putting
    // the caller through to the operator or the duty dispatcher and back when that fails, and
    // the hold for a wait poll of a call it does not know.
    let app = TestApp::spawn_with(TestDb::sqlite().await, &[("HOTLINE_DUTY_PHONE", "+79990001122")]).await;
    let mut hazard = Caller::new(&app.base, Dialect::Jambonz, "+79101234567");
    let mut turns = vec![hazard.dial().await.unwrap()];
    check_last(&hazard, &mut seen);
    for key in ["1", "152610", "1"] {
        turns.push(hazard.press(key).await.unwrap());
        check_last(&hazard, &mut seen);
    }
    assert!(matches!(hazard.waiting, Waiting::Dialed { .. }), "nobody on shift: the duty dispatcher: {turns:?}");
    hazard.dial_ends("busy").await.unwrap();
    check_last(&hazard, &mut seen);

    let operator = app.operator_on_shift(Some("sip:olga@pbx.example")).await;
    let mut caller = Caller::new(&app.base, Dialect::Jambonz, "+79101234568");
    caller.dial().await.unwrap();
    check_last(&caller, &mut seen);
    caller.press("0").await.unwrap();
    check_last(&caller, &mut seen);
    caller.wait_in_queue().await.unwrap();
    check_last(&caller, &mut seen);
    let (status, _) = app.post("/api/queue/next", &operator, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(caller.wait_in_queue().await.unwrap().waiting, Waiting::Left);
    check_last(&caller, &mut seen);
    caller.leave_queue("leave").await.unwrap();
    check_last(&caller, &mut seen);
    let back = caller.dial_ends("busy").await.unwrap();
    assert!(matches!(back.waiting, Waiting::Queue { .. }), "{back:?}");
    check_last(&caller, &mut seen);
    caller.leave_queue("hangup").await.unwrap();
    check_last(&caller, &mut seen);
    let response = app
        .http
        .post(app.url("/telephony/jambonz/wait"))
        .json(&json!({"call_sid": "never-seen", "from": "+79101234569"}))
        .send()
        .await
        .unwrap();
    check(&response.json().await.unwrap(), "a wait poll of an unknown call", &mut seen);
    app.stop().await;

    for verb in ["say", "gather", "gather+say", "pause", "enqueue", "leave", "dial", "hangup"] {
        assert!(seen.contains(verb), "the default scripts' answers never used {verb}: {seen:?}");
    }
}

/// The answer a jambonz webhook would send for the actions, parsed.
fn hotline_answer(settings: &Settings, phrases: &hotline::ivr::Phrases, actions: &[Action]) -> Value {
    serde_json::from_str(&hotline::telephony::http::render::<Jambonz>(settings, phrases, actions).body).unwrap()
}

fn check_last(caller: &Caller, seen: &mut BTreeSet<String>) {
    let body = caller.last_answer.as_deref().expect("an answer");
    check(&serde_json::from_str(body).unwrap(), &format!("the webhook answer {body}"), seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_vendor_and_voice_speak_every_prompt() {
    let app = TestApp::spawn_with(
        TestDb::sqlite().await,
        &[("HOTLINE_JAMBONZ_TTS_VENDOR", "microsoft"), ("HOTLINE_JAMBONZ_TTS_VOICE", "ru-RU-DariyaNeural")],
    )
    .await;
    let mut caller = Caller::new(&app.base, Dialect::Jambonz, "+79101234567");
    caller.dial().await.unwrap();
    let greeting: Value = serde_json::from_str(caller.last_answer.as_deref().unwrap()).unwrap();
    check(&greeting, "the greeting", &mut BTreeSet::new());
    let says: Vec<&Value> = greeting
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| if v["verb"] == "say" { Some(v) } else { v.get("say") })
        .collect();
    assert!(!says.is_empty(), "{greeting}");
    for say in says {
        assert_eq!(
            say["synthesizer"],
            json!({"vendor": "microsoft", "language": "ru-RU", "voice": "ru-RU-DariyaNeural"}),
            "{greeting}"
        );
    }
    app.stop().await;
}
