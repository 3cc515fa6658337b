//! Turns the script files of a folder into a checked [`Flow`], or lists every problem as
//! `file:node:reason` so whoever edits the menus can fix them all in one pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use super::actions::{self, NEXT};
use super::flow::{Flow, GatherSpec, Node, NodeKind, Part, Retry};
use super::phrases::{self, Phrases};
use super::script::{RawGather, RawNode, RawRetry, ScriptFile};
use super::speech;
use crate::outbound::power_back::SCRIPT as POWER_BACK;
use crate::telephony::Voice;

/// The file every call starts in; its `[flow] start` names the first node.
pub const MAIN_FILE: &str = "main";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub file: String,
    pub node: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.node, self.reason)
    }
}

/// All the problems of a script folder, one per line.
#[derive(Debug, Clone, PartialEq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Reads every `*.toml` in `dir` and checks the whole flow.
pub fn load_dir(dir: &Path) -> Result<Flow, Problems> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Problems(vec![Problem {
            file: dir.display().to_string(),
            node: "-".into(),
            reason: format!("cannot read the scripts folder: {e}"),
        }])
    })?;
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => problems.push(Problem { file: name, node: "-".into(), reason: format!("cannot read: {e}") }),
        }
    }
    sources.sort();
    match check(&sources) {
        Ok(flow) if problems.is_empty() => Ok(flow),
        Ok(_) => Err(Problems(problems)),
        Err(Problems(more)) => {
            problems.extend(more);
            Err(Problems(problems))
        }
    }
}

/// Checks scripts given as (file name, text) pairs. Without a `phrases.toml` among them the
/// built-in phrases are spoken.
pub fn check(sources: &[(String, String)]) -> Result<Flow, Problems> {
    let mut checker = Checker::default();
    let mut parsed = Vec::new();
    let mut phrases = None;
    for (file, text) in sources {
        if file == phrases::FILE {
            phrases = checker.phrases(text);
            continue;
        }
        match toml::from_str::<ScriptFile>(text) {
            Ok(script) => parsed.push((file.clone(), script)),
            Err(e) => {
                let node = node_at(text, e.span().map(|s| s.start));
                checker.problem(file, &node, e.message().trim().to_string());
            }
        }
    }
    let phrases = match phrases {
        Some(phrases) => phrases,
        None if sources.iter().any(|(file, _)| file == phrases::FILE) => return Err(checker.failed()),
        None => built_in_phrases(),
    };
    checker.build(parsed, phrases)
}

fn built_in_phrases() -> Phrases {
    toml::from_str(super::BUILT_IN_PHRASES).expect("the built-in phrases parse: a test checks them")
}

/// Whether a text the caller hears has a number or a time in figures, which voices read each
/// their own way (SPEC §4a).
fn in_figures(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(2).any(|w| w[0].is_ascii_digit() && w[1].is_ascii_digit())
        || chars.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == ':' && w[2].is_ascii_digit())
}

/// The `[nodes.X]` section a parse error falls in, so even syntax errors point at a node.
fn node_at(text: &str, offset: Option<usize>) -> String {
    let end = offset.unwrap_or(0).min(text.len());
    text[..end]
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("[nodes.").and_then(|rest| rest.strip_suffix(']')))
        .map(|name| name.trim_matches('"').to_string())
        .unwrap_or_else(|| "-".into())
}

fn stem(file: &str) -> &str {
    file.strip_suffix(".toml").unwrap_or(file)
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, file: &str, node: &str, reason: impl Into<String>) {
        self.problems.push(Problem { file: file.to_string(), node: node.to_string(), reason: reason.into() });
    }

    fn failed(mut self) -> Problems {
        self.problems.sort();
        self.problems.dedup();
        Problems(self.problems)
    }

    /// The phrases, each a sentence in words with only the placeholders it fills.
    fn phrases(&mut self, text: &str) -> Option<Phrases> {
        let phrases: Phrases = match toml::from_str(text) {
            Ok(phrases) => phrases,
            Err(e) => {
                self.problem(phrases::FILE, "-", e.message().trim().to_string());
                return None;
            }
        };
        let before = self.problems.len();
        for (key, text) in phrases.each() {
            if text.trim().is_empty() {
                self.problem(phrases::FILE, key, "an empty phrase");
            }
            if in_figures(text) {
                self.problem(phrases::FILE, key, "a number or time in figures: write it in words («сто двенадцать»)");
            }
            match speech::placeholders(text) {
                Err(e) => self.problem(phrases::FILE, key, e),
                Ok(vars) => {
                    for var in vars.into_iter().filter(|var| !Phrases::allowed(key).contains(var)) {
                        self.problem(phrases::FILE, key, format!("unknown variable '{{{var}}}'"));
                    }
                }
            }
        }
        (self.problems.len() == before).then_some(phrases)
    }

    fn build(mut self, parsed: Vec<(String, ScriptFile)>, phrases: Phrases) -> Result<Flow, Problems> {
        let main_file = format!("{MAIN_FILE}.toml");
        let mut language = "ru-RU".to_string();
        let mut voice_name = None;
        let mut start = None;
        let mut navigation = (None, None);
        let mut outbound = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (file, script) in &parsed {
            if stem(file) == MAIN_FILE {
                language = script.flow.language.clone().unwrap_or(language);
                voice_name = script.flow.voice.clone();
                start = script.flow.start.clone();
                navigation = (script.flow.menu.clone(), script.flow.operator.clone());
            } else if script.flow.start.is_some() || script.flow.menu.is_some() || script.flow.operator.is_some() {
                self.problem(file, "-", "only main.toml names the start node, the main menu and the operator");
            }
            if let Some(start) = &script.flow.outbound {
                if stem(file) == MAIN_FILE {
                    self.problem(
                        file,
                        "-",
                        "main.toml is where incoming calls start: an outbound script is a file of its own",
                    );
                } else {
                    outbound.insert(stem(file).to_string(), qualify(stem(file), start));
                }
            }
            files.insert(stem(file).to_string(), file.clone());
        }
        let all_ids: BTreeSet<String> = parsed
            .iter()
            .flat_map(|(file, script)| script.nodes.keys().map(move |node| format!("{}.{node}", stem(file))))
            .collect();
        if !files.contains_key(MAIN_FILE) {
            self.problem(&main_file, "-", "main.toml is missing: every call starts there");
        }
        let captured: BTreeSet<String> =
            parsed.iter().flat_map(|(_, s)| s.nodes.values().filter_map(|n| n.capture.clone())).collect();

        let mut nodes = HashMap::new();
        for (file, script) in parsed {
            for (name, raw) in script.nodes {
                let ctx = NodeCtx { file: &file, node: &name, all_ids: &all_ids, captured: &captured };
                if let Some(node) = self.node(&ctx, raw) {
                    nodes.insert(node.id.clone(), node);
                }
            }
        }
        let start = match start {
            Some(s) => {
                let id = qualify(MAIN_FILE, &s);
                if !all_ids.contains(&id) {
                    self.problem(&main_file, "-", format!("start node '{s}' does not exist"));
                }
                id
            }
            None => {
                if files.contains_key(MAIN_FILE) {
                    self.problem(&main_file, "-", "[flow] start is missing");
                }
                String::new()
            }
        };
        // Keys that mean the same on every menu: 9 the main menu, 0 the operator.
        let global = |name: &str, target: Option<String>, this: &mut Self| {
            let id = qualify(MAIN_FILE, &target?);
            if !all_ids.contains(&id) {
                this.problem(&main_file, "-", format!("[flow] {name} names a node that does not exist"));
            }
            Some(id)
        };
        for (script, start) in &outbound {
            if !all_ids.contains(start) {
                self.problem(&format!("{script}.toml"), "-", format!("outbound start node '{start}' does not exist"));
            }
        }
        // A caller promised a call when the power returns must have something to hear then.
        let promises = nodes.values().find(|n| matches!(n.kind, NodeKind::Action { name: "subscribe_power_back", .. }));
        if let (Some(node), false) = (promises, outbound.contains_key(POWER_BACK)) {
            let (file, name) = node.id.split_once('.').unwrap_or(("main", &node.id));
            let reason = format!(
                "callers are offered a call when the power returns, but there is no outbound script {POWER_BACK}.toml"
            );
            self.problem(&format!("{file}.toml"), name, reason);
        }
        let menu = global("menu", navigation.0, &mut self);
        let operator = global("operator", navigation.1, &mut self);
        if self.problems.is_empty() {
            let starts: Vec<&str> =
                std::iter::once(start.as_str()).chain(outbound.values().map(String::as_str)).collect();
            self.check_graph(&nodes, &starts);
        }
        if !self.problems.is_empty() {
            return Err(self.failed());
        }
        Ok(Flow { start, nodes, voice: Voice { language, name: voice_name }, menu, operator, phrases, outbound })
    }

    fn target(&mut self, ctx: &NodeCtx, target: &str) -> String {
        let id = qualify(stem(ctx.file), target);
        if !ctx.all_ids.contains(&id) {
            self.problem(ctx.file, ctx.node, format!("goes to '{target}', which does not exist"));
        }
        id
    }

    fn retry(&mut self, ctx: &NodeCtx, retry: Option<RawRetry>, what: &str) -> Option<Retry> {
        let Some(retry) = retry else {
            self.problem(ctx.file, ctx.node, format!("a gather needs a {what} path"));
            return None;
        };
        if retry.retries > 5 {
            self.problem(ctx.file, ctx.node, format!("{what}: more than 5 retries keeps a caller in a loop"));
        }
        let say = retry.say.map(|text| self.prompt(ctx, &text));
        Some(Retry { say: say.flatten(), retries: retry.retries, then: self.target(ctx, &retry.then) })
    }

    /// A template the caller hears: besides being a valid template, its numbers are words, so
    /// that no voice reads «9:30» or «15» its own way (SPEC §4a).
    fn prompt(&mut self, ctx: &NodeCtx, text: &str) -> Option<String> {
        if in_figures(text) {
            self.problem(ctx.file, ctx.node, "a number or time in figures: write it in words («сто двенадцать»)");
        }
        self.template(ctx, text)
    }

    fn template(&mut self, ctx: &NodeCtx, text: &str) -> Option<String> {
        if text.trim().is_empty() {
            self.problem(ctx.file, ctx.node, "an empty prompt");
            return None;
        }
        match speech::placeholders(text) {
            Err(e) => self.problem(ctx.file, ctx.node, e),
            Ok(vars) => {
                for var in vars {
                    let known = actions::CATALOG.iter().any(|a| a.sets.contains(&var)) || ctx.captured.contains(var);
                    if !known {
                        self.problem(ctx.file, ctx.node, format!("unknown variable '{{{var}}}'"));
                    }
                }
            }
        }
        Some(text.to_string())
    }

    fn gather(&mut self, ctx: &NodeCtx, raw: RawGather) -> GatherSpec {
        let input = raw.input.unwrap_or_else(|| "dtmf".into());
        let words: Vec<&str> = input.split_whitespace().collect();
        if words.is_empty() || words.iter().any(|w| *w != "dtmf" && *w != "speech") {
            self.problem(ctx.file, ctx.node, format!("gather input '{input}' must be dtmf, speech or \"dtmf speech\""));
        }
        if raw.digits.is_some_and(|d| !(1..=20).contains(&d)) {
            self.problem(ctx.file, ctx.node, "gather digits must be from 1 to 20");
        }
        let timeout_s = raw.timeout.unwrap_or(5);
        if !(1..=60).contains(&timeout_s) {
            self.problem(ctx.file, ctx.node, "gather timeout must be from 1 to 60 seconds");
        }
        let finish_on_key = self.key(ctx, raw.finish_on_key.as_deref());
        let mut hints = raw.hints.map(|h| h.into_vec()).unwrap_or_default();
        let settlement_hints = hints.iter().any(|h| h == "settlements");
        hints.retain(|h| h != "settlements");
        GatherSpec {
            dtmf: words.contains(&"dtmf"),
            speech: words.contains(&"speech"),
            num_digits: raw.digits,
            finish_on_key,
            timeout_s,
            hints,
            settlement_hints,
        }
    }

    fn key(&mut self, ctx: &NodeCtx, key: Option<&str>) -> Option<char> {
        let key = key?;
        let mut chars = key.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_digit() || c == '#' || c == '*' => Some(c),
            _ => {
                self.problem(ctx.file, ctx.node, format!("finish key '{key}' must be one of 0-9, # or *"));
                None
            }
        }
    }

    fn node(&mut self, ctx: &NodeCtx, raw: RawNode) -> Option<Node> {
        let id = qualify(stem(ctx.file), ctx.node);
        let kinds = [
            raw.gather.is_some(),
            raw.record.is_some(),
            raw.enqueue.is_some(),
            raw.dial.is_some(),
            raw.action.is_some(),
            raw.hangup == Some(true),
            raw.uses.is_some(),
            raw.returns == Some(true),
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            self.problem(
                ctx.file,
                ctx.node,
                "a node is one of gather, record, enqueue, dial, do, use, return or hangup, not several",
            );
            return None;
        }
        let mut parts = Vec::new();
        for line in raw.say.map(|s| s.into_vec()).unwrap_or_default() {
            if let Some(text) = self.prompt(ctx, &line) {
                parts.push(Part::Say(text));
            }
        }
        if let Some(url) = raw.play {
            parts.push(Part::Play(url));
        }
        if let Some(seconds) = raw.pause {
            parts.push(Part::Pause(seconds));
        }
        let stray = |name: &str, present: bool, this: &mut Self| {
            if present {
                this.problem(ctx.file, ctx.node, format!("'{name}' does not belong in this kind of node"));
            }
        };
        for (name, present) in [
            ("on", raw.on.is_some()),
            ("capture", raw.capture.is_some()),
            ("no_input", raw.no_input.is_some()),
            ("invalid", raw.invalid.is_some()),
        ] {
            stray(name, present && raw.gather.is_none(), self);
        }
        for (name, present) in [("with", raw.args.is_some()), ("outcomes", raw.outcomes.is_some())] {
            stray(name, present && raw.action.is_none(), self);
        }
        let kind = if let Some(gather) = raw.gather {
            let gather = self.gather(ctx, gather);
            if parts.is_empty() {
                self.problem(ctx.file, ctx.node, "a gather must say or play something first");
            }
            let no_input = self.retry(ctx, raw.no_input, "no-input")?;
            match (raw.on, raw.capture) {
                (Some(branches), None) => {
                    stray("next", raw.next.is_some(), self);
                    if branches.is_empty() {
                        self.problem(ctx.file, ctx.node, "a menu needs at least one branch under 'on'");
                    }
                    let invalid = self.retry(ctx, raw.invalid, "invalid-input")?;
                    if invalid.retries == 0 {
                        self.problem(
                            ctx.file,
                            ctx.node,
                            "invalid-input: a wrong key is asked again once (retries >= 1)",
                        );
                    }
                    let mut targets = BTreeMap::new();
                    for (key, target) in branches {
                        let valid = !key.is_empty()
                            && (key.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#')
                                || (gather.speech && key.chars().all(char::is_alphabetic)));
                        if !valid {
                            self.problem(ctx.file, ctx.node, format!("branch key '{key}' is not a key press"));
                        }
                        targets.insert(key, self.target(ctx, &target));
                    }
                    NodeKind::Menu { gather, branches: targets, no_input, invalid }
                }
                (None, Some(var)) => {
                    let next = raw.next.map(|n| self.target(ctx, &n));
                    let Some(next) = next else {
                        self.problem(ctx.file, ctx.node, "a capture needs 'next'");
                        return None;
                    };
                    stray("invalid", raw.invalid.is_some(), self);
                    NodeKind::Capture { gather, var, next, no_input }
                }
                _ => {
                    self.problem(ctx.file, ctx.node, "a gather has either 'on' (a menu) or 'capture' (free input)");
                    return None;
                }
            }
        } else if let Some(record) = raw.record {
            let Some(next) = raw.next.map(|n| self.target(ctx, &n)) else {
                self.problem(ctx.file, ctx.node, "a record needs 'next'");
                return None;
            };
            if !(1..=600).contains(&record.max_length) {
                self.problem(ctx.file, ctx.node, "record max_length must be from 1 to 600 seconds");
            }
            let finish_on_key = self.key(ctx, record.finish_on_key.as_deref());
            NodeKind::Record { max_length_s: record.max_length, finish_on_key, next }
        } else if let Some(queue) = raw.enqueue {
            let Some(next) = raw.next.map(|n| self.target(ctx, &n)) else {
                self.problem(ctx.file, ctx.node, "an enqueue needs 'next' (where a caller goes on leaving the queue)");
                return None;
            };
            NodeKind::Enqueue { queue, next }
        } else if let Some(target) = raw.dial {
            let Some(next) = raw.next.map(|n| self.target(ctx, &n)) else {
                self.problem(ctx.file, ctx.node, "a dial needs 'next' (where a caller goes when nobody answers)");
                return None;
            };
            NodeKind::Dial { target: self.template(ctx, &target)?, next }
        } else if let Some(name) = raw.action {
            self.action(ctx, &name, raw.args.unwrap_or_default(), raw.outcomes, raw.next)?
        } else if let Some(sub) = raw.uses {
            let Some(then) = raw.next.map(|n| self.target(ctx, &n)) else {
                self.problem(ctx.file, ctx.node, "a use needs 'next' (where its return comes back to)");
                return None;
            };
            NodeKind::Use { sub: self.target(ctx, &sub), then }
        } else if raw.returns == Some(true) {
            stray("next", raw.next.is_some(), self);
            NodeKind::Return
        } else if raw.hangup == Some(true) {
            stray("next", raw.next.is_some(), self);
            NodeKind::Hangup
        } else {
            let Some(next) = raw.next.map(|n| self.target(ctx, &n)) else {
                self.problem(ctx.file, ctx.node, "a node that only speaks needs 'next' or 'hangup = true'");
                return None;
            };
            NodeKind::Message { next }
        };
        Some(Node { id, parts, kind })
    }

    fn action(
        &mut self,
        ctx: &NodeCtx,
        name: &str,
        args: toml::Table,
        outcomes: Option<BTreeMap<String, String>>,
        next: Option<String>,
    ) -> Option<NodeKind> {
        let Some(spec) = actions::find(name) else {
            let known: Vec<&str> = actions::CATALOG.iter().map(|a| a.name).collect();
            self.problem(ctx.file, ctx.node, format!("unknown action '{name}' (known: {})", known.join(", ")));
            return None;
        };
        for (arg, value) in &args {
            match spec.params.iter().find(|p| p.name == arg) {
                None => self.problem(ctx.file, ctx.node, format!("{name} takes no parameter '{arg}'")),
                Some(param) => {
                    if let Err(e) = (param.check)(value) {
                        self.problem(ctx.file, ctx.node, format!("{name}: {arg}: {e}"));
                    }
                }
            }
        }
        for param in spec.params.iter().filter(|p| p.required && !args.contains_key(p.name)) {
            self.problem(ctx.file, ctx.node, format!("{name} needs the parameter '{}'", param.name));
        }
        let mut routes = BTreeMap::new();
        if spec.outcomes == [NEXT] {
            if outcomes.is_some() {
                self.problem(ctx.file, ctx.node, format!("{name} has one outcome: route it with 'next'"));
            }
            match next {
                Some(n) => {
                    routes.insert(NEXT.to_string(), self.target(ctx, &n));
                }
                None => self.problem(ctx.file, ctx.node, format!("{name} needs 'next'")),
            }
        } else {
            if next.is_some() {
                self.problem(ctx.file, ctx.node, format!("{name} has several outcomes: route them under 'outcomes'"));
            }
            let outcomes = outcomes.unwrap_or_default();
            for outcome in spec.outcomes {
                if !outcomes.contains_key(*outcome) {
                    self.problem(ctx.file, ctx.node, format!("{name}: outcome '{outcome}' is not routed"));
                }
            }
            for (outcome, target) in outcomes {
                if !spec.outcomes.contains(&outcome.as_str()) {
                    self.problem(ctx.file, ctx.node, format!("{name} has no outcome '{outcome}'"));
                }
                routes.insert(outcome, self.target(ctx, &target));
            }
        }
        Some(NodeKind::Action { name: spec.name, args, outcomes: routes })
    }

    /// Reachability from the starts (incoming calls', outbound scripts'), and that every node
    /// can reach an end without spinning.
    fn check_graph(&mut self, nodes: &HashMap<String, Node>, starts: &[&str]) {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = starts.iter().map(|s| s.to_string()).collect();
        while let Some(id) = stack.pop() {
            if let Some(node) = nodes.get(&id) {
                if seen.insert(id.clone()) {
                    stack.extend(node.kind.targets().into_iter().map(str::to_string));
                }
            }
        }
        let mut ids: Vec<&String> = nodes.keys().collect();
        ids.sort();
        for id in &ids {
            if !seen.contains(*id) {
                let (file, node) = split(id);
                self.problem(&format!("{file}.toml"), node, "unreachable from the start");
            }
        }
        // A node from which no hangup, queue or recording can be reached keeps a caller forever.
        let mut can_end: BTreeSet<&str> =
            nodes.values().filter(|n| n.kind.ends_turn_for_good()).map(|n| n.id.as_str()).collect();
        loop {
            let before = can_end.len();
            for node in nodes.values() {
                if node.kind.targets().iter().any(|t| can_end.contains(t)) {
                    can_end.insert(node.id.as_str());
                }
            }
            if can_end.len() == before {
                break;
            }
        }
        for id in &ids {
            if !can_end.contains(id.as_str()) {
                let (file, node) = split(id);
                self.problem(
                    &format!("{file}.toml"),
                    node,
                    "a loop with no way out: no path leads to a hangup or the operator queue",
                );
            }
        }
        // Nodes that pass control on without waiting for the caller must not form a cycle, or
        // one webhook would spin forever.
        for id in &ids {
            let mut frontier: Vec<&str> = nodes[*id].kind.auto_targets();
            let mut visited = BTreeSet::new();
            while let Some(next) = frontier.pop() {
                if next == id.as_str() {
                    let (file, node) = split(id);
                    self.problem(
                        &format!("{file}.toml"),
                        node,
                        "a loop with no input: it passes control around without ever waiting for the caller",
                    );
                    break;
                }
                if visited.insert(next) {
                    frontier.extend(nodes.get(next).map(|n| n.kind.auto_targets()).unwrap_or_default());
                }
            }
        }
    }
}

struct NodeCtx<'a> {
    file: &'a str,
    node: &'a str,
    all_ids: &'a BTreeSet<String>,
    captured: &'a BTreeSet<String>,
}

/// `x` in file `f` is `f.x`; `g.x` names a node of file `g`.
fn qualify(file: &str, target: &str) -> String {
    if target.contains('.') { target.to_string() } else { format!("{file}.{target}") }
}

fn split(id: &str) -> (&str, &str) {
    id.split_once('.').unwrap_or((id, ""))
}
