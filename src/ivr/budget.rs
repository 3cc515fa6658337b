//! Time budgets (SPEC §4a): walks every path of a checked flow and times the key moments callers reach.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use super::flow::{Flow, GatherSpec, Node, NodeKind, Part};
use super::validate::{MAIN_FILE, Problem};

// ---- The time model: every figure the estimates rest on, here and nowhere else. ----

/// Speech rate of the synthesised voice: letters (Cyrillic or Latin) per second.
pub const LETTERS_PER_SECOND: f64 = 14.0;
/// A digit written in a prompt is said as a word of about this many letters («112» ≈ 15).
pub const LETTERS_PER_DIGIT: u32 = 5;
/// One key pressed at a menu.
pub const KEY_S: f64 = 1.0;
/// A postcode: a capture of six digits, or a settlement name said to the recogniser.
pub const POSTCODE_S: f64 = 4.0;
/// Any other capture of a fixed number of digits: this per digit.
pub const DIGIT_S: f64 = 1.0;
/// A capture ended by a key rather than a digit count (an application number, then #).
pub const OPEN_CAPTURE_S: f64 = 8.0;
/// A `play` of recorded audio, whose length the script does not say.
pub const PLAY_S: f64 = 5.0;
// A recording counts its whole `max_length`: the most a caller may take.

/// Typical spoken length, in letters, of each `{variable}` filled in at run time.
pub const PLACEHOLDER_LETTERS: &[(&str, u32)] = &[
    ("settlement", 8),           // «Углич», «Гаврилов-Ям»
    ("settlement_choices", 60),  // «Углич — нажмите 1, Ростов — 2»
    ("ticket_number", 30),       // six digits, read one by one
    ("application_number", 40),  // eight digits, read one by one
    ("application_status", 20),  // «на рассмотрении»
    ("application_updated", 25), // «тридцатого ноября»
    ("wait_range", 18),          // «от двух до шести минут»
    ("outage_end", 25),          // «сегодня к девятнадцати часам»
    ("etr", 60),                 // the estimated-restoration sentence
    ("crew", 30),                // «Бригада уже работает на месте.»
    ("planned_list", 150),       // date, from, to and streets of each planned outage
    ("hazard", 40),              // what a hazard's caller reported: «оборван провод у дома»
];
/// A variable the table does not know.
pub const UNKNOWN_LETTERS: u32 = 10;
/// How far into `{planned_list}` the first outage's time is heard: after its date,
/// «тридцатого ноября, с девяти тридцати».
pub const PLANNED_FIRST_TIME_AT: u32 = 30;

/// The typical spoken length of `{var}`, in letters.
pub fn placeholder_letters(var: &str) -> u32 {
    PLACEHOLDER_LETTERS.iter().find(|(name, _)| *name == var).map_or(UNKNOWN_LETTERS, |(_, n)| *n)
}

// ---- The key moments: what is timed, where it is reached, and its budget. ----

/// Where on a path a moment is reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Point {
    /// Entering an Action node of this name; with `arg`, only one whose argument has that string value.
    EnterAction { name: &'static str, arg: Option<(&'static str, &'static str)> },
    /// Inside a Say holding `{var}`: its text up to the placeholder, then `into` letters of it
    /// (`None`: the whole of it). The first such Say on the path counts.
    InSay { var: &'static str, into: Option<u32> },
    /// The end of the first Say spoken after an Action of this name.
    SayAfter { action: &'static str },
}

/// Which paths a budget holds for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Over {
    /// Every path: the slowest must be within it.
    Every,
    /// The direct path (the fastest) in each opening of the call (calm and storm greeting):
    /// a caller who answers each question at once, with a postcode. Slower paths (a place asked
    /// again, confirmed, or offered to a returning caller) are reported, not held to it.
    Direct,
}

#[derive(Debug)]
pub struct Moment {
    pub name: &'static str,
    /// Seconds from the answer; `None`: reported only.
    pub budget_s: Option<f64>,
    pub over: Over,
    /// The first of these that the flow has anywhere is the one measured; later ones stand in
    /// until the scripts have it.
    pub points: &'static [Point],
    /// A point after which the server reaches the moment by itself within these seconds, on a
    /// timer, whatever the caller still answers (and on a path that ends before it).
    pub deadline: Option<(Point, i64)>,
}

pub const MOMENTS: &[Moment] = &[
    Moment {
        name: "hazard escalation started",
        budget_s: Some(45.0),
        // The server's timer holds it on every path.
        over: Over::Every,
        points: &[
            Point::EnterAction { name: "escalate", arg: None },
            Point::EnterAction { name: "create_ticket", arg: Some(("category", "hazard")) },
        ],
        deadline: Some((
            Point::EnterAction { name: "create_ticket", arg: Some(("category", "hazard")) },
            crate::escalation::HAZARD_ESCALATES_WITHIN_S,
        )),
    },
    Moment {
        name: "first planned-outage time",
        budget_s: Some(30.0),
        over: Over::Direct,
        points: &[Point::InSay { var: "planned_list", into: Some(PLANNED_FIRST_TIME_AT) }],
        deadline: None,
    },
    Moment {
        name: "no-power status",
        budget_s: None,
        over: Over::Direct,
        points: &[Point::SayAfter { action: "outage_status" }],
        deadline: None,
    },
    Moment {
        name: "ticket number",
        budget_s: None,
        over: Over::Direct,
        points: &[Point::InSay { var: "ticket_number", into: None }],
        deadline: None,
    },
];

/// Paths walked at most. Each path is finite (a node is entered at most once per path), but
/// their number can grow with every fork; past this the walk stops and the report fails as
/// incomplete, so a script change that multiplies paths is noticed instead of hanging `check`.
pub const MAX_PATHS: usize = 1_000_000;

// ---- Counting speech. ----

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
        && (('\u{0400}'..='\u{04FF}').contains(&c) || ('A'..='z').contains(&c) || ('À'..='ɏ').contains(&c))
}

/// Letters a plain text is spoken as: Cyrillic and Latin letters count one, a digit
/// [`LETTERS_PER_DIGIT`]; spaces, punctuation and other signs nothing.
pub fn letters(text: &str) -> u32 {
    text.chars()
        .map(|c| {
            if is_letter(c) {
                1
            } else if c.is_ascii_digit() {
                LETTERS_PER_DIGIT
            } else {
                0
            }
        })
        .sum()
}

enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// A (validated) template as spoken: literal text and `{variables}`, in order.
fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.push(Piece::Text(&rest[..open]));
        out.push(Piece::Var(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    out.push(Piece::Text(rest));
    out
}

/// Letters a prompt template is spoken as, each `{variable}` at its typical length.
pub fn template_letters(template: &str) -> u32 {
    pieces(template)
        .iter()
        .map(|p| match p {
            Piece::Text(text) => letters(text),
            Piece::Var(var) => placeholder_letters(var),
        })
        .sum()
}

/// Letters spoken before the first `{var}` of a template, if it has one.
fn letters_before(template: &str, var: &str) -> Option<u32> {
    let mut before = 0;
    for piece in pieces(template) {
        match piece {
            Piece::Var(v) if v == var => return Some(before),
            Piece::Var(v) => before += placeholder_letters(v),
            Piece::Text(text) => before += letters(text),
        }
    }
    None
}

fn seconds(letters: u32) -> f64 {
    f64::from(letters) / LETTERS_PER_SECOND
}

/// How long a caller takes to answer a capture.
fn capture_seconds(gather: &GatherSpec) -> f64 {
    if gather.num_digits == Some(6) || (gather.speech && gather.settlement_hints) {
        POSTCODE_S
    } else if gather.finish_on_key.is_some() {
        OPEN_CAPTURE_S
    } else {
        gather.num_digits.map_or(OPEN_CAPTURE_S, |n| f64::from(n) * DIGIT_S)
    }
}

/// A menu branch is a key press per character; a word said counts as one.
fn key_seconds(key: &str) -> f64 {
    if key.chars().all(char::is_alphabetic) { KEY_S } else { key.chars().count() as f64 * KEY_S }
}

// ---- The report. ----

/// One moment as reached in one main-menu branch, over every path that reaches it.
#[derive(Debug, Clone)]
pub struct Figure {
    pub moment: &'static Moment,
    pub fastest_s: f64,
    /// The fastest path in each opening of the call (the start action's outcome), by opening.
    pub fastest_by_opening: BTreeMap<String, f64>,
    pub slowest_s: f64,
    /// The slowest path, as node ids from the start to the node where the moment is reached.
    pub slowest_path: Vec<String>,
}

impl Figure {
    pub fn over_budget(&self) -> bool {
        self.moment.budget_s.is_some_and(|budget| self.held_s() > budget)
    }

    /// The direct path of the slower opening (the storm greeting, say).
    pub fn direct_s(&self) -> f64 {
        self.fastest_by_opening.values().copied().fold(self.fastest_s, f64::max)
    }

    /// The figure the budget holds.
    pub fn held_s(&self) -> f64 {
        match self.moment.over {
            Over::Every => self.slowest_s,
            Over::Direct => self.direct_s(),
        }
    }
}

/// A branch of the main menu: its key, a name (`1 hazard`) and the moments reached in it.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Empty for moments reached before the main menu.
    pub key: String,
    pub label: String,
    pub figures: Vec<Figure>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub branches: Vec<Branch>,
    pub paths: usize,
    /// False when the walk stopped at [`MAX_PATHS`].
    pub complete: bool,
    /// Budget overruns, a walk cut short, questions a silent caller never gets out of: as
    /// `file:node:reason`, sorted.
    pub failures: Vec<Problem>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Walks every path of `flow`, times the [`MOMENTS`] and checks the budgets and the ways out.
///
/// The caller modelled answers every question at its first asking and hears every prompt to its
/// end; silence and wrong keys are not budget paths but are covered by the way-out checks:
/// `validate` already refuses a node from which no hangup, queue or return can be reached at all
/// (its targets include every retry fallback), and this adds what that cannot see, a question
/// whose fallbacks, after its retries, lead a caller who never answers round in a circle.
pub fn measure(flow: &Flow) -> Report {
    let points = MOMENTS.iter().map(|m| m.points.iter().copied().find(|p| flow_has(flow, p))).collect();
    let main_menu = main_menu(flow);
    let mut walker = Walker {
        flow,
        points,
        main_menu: main_menu.map(|n| n.id.as_str()),
        visited: HashSet::new(),
        trail: Vec::new(),
        figures: BTreeMap::new(),
        paths: 0,
    };
    if flow.node(&flow.start).is_some() {
        walker.enter(&flow.start, Path::default());
    }
    let complete = walker.paths < MAX_PATHS;
    let mut failures = Vec::new();
    if !complete {
        failures.push(problem(
            main_menu.map_or(flow.start.as_str(), |n| n.id.as_str()),
            format!("more than {MAX_PATHS} paths: the walk stopped and the figures are incomplete"),
        ));
    }

    let mut branches = Vec::new();
    let mut keys: Vec<(&str, &str)> = match main_menu.map(|n| &n.kind) {
        Some(NodeKind::Menu { branches, .. }) => branches.iter().map(|(k, t)| (k.as_str(), t.as_str())).collect(),
        _ => Vec::new(),
    };
    keys.sort_by_key(|(k, _)| keypad_order(k));
    let before = ("", "");
    for (key, target) in std::iter::once(before).chain(keys) {
        let figures: Vec<Figure> =
            (0..MOMENTS.len()).filter_map(|m| walker.figures.remove(&(key.to_string(), m))).collect();
        if key.is_empty() && figures.is_empty() {
            continue;
        }
        let label = if key.is_empty() { "before the menu".to_string() } else { branch_label(key, target) };
        for figure in figures.iter().filter(|f| f.over_budget()) {
            let at = figure.slowest_path.last().map_or("-", String::as_str);
            failures.push(problem(
                at,
                format!(
                    "{} {:.1} s > budget {} s ({label})",
                    figure.moment.name,
                    figure.held_s(),
                    figure.moment.budget_s.unwrap_or_default()
                ),
            ));
        }
        // A branch that leads straight back (`*` repeat) has no path of its own.
        if figures.is_empty() && main_menu.is_some_and(|n| n.id == target) {
            continue;
        }
        branches.push(Branch { key: key.to_string(), label, figures });
    }
    failures.extend(no_way_out_for_silence(flow));
    failures.sort();
    failures.dedup();
    Report { branches, paths: walker.paths, complete, failures }
}

fn problem(node_id: &str, reason: String) -> Problem {
    let (file, node) = node_id.split_once('.').unwrap_or((node_id, "-"));
    Problem { file: format!("{file}.toml"), node: node.to_string(), reason }
}

/// 1…9, then 0, then anything else: the order callers hear them.
fn keypad_order(key: &str) -> (u8, String) {
    let rank = match key.as_bytes() {
        [b'1'..=b'9'] => 0,
        [b'0'] => 1,
        _ => 2,
    };
    (rank, key.to_string())
}

/// `1 hazard` for a branch to `hazard.start`, `0 operator` for `main.operator`, else the node id.
fn branch_label(key: &str, target: &str) -> String {
    let name = match target.split_once('.') {
        Some((file, "start")) => file,
        Some((MAIN_FILE, node)) => node,
        _ => target,
    };
    format!("{key} {name}")
}

/// The first menu a caller meets: reached from the start without answering anything.
fn main_menu(flow: &Flow) -> Option<&Node> {
    let mut queue = std::collections::VecDeque::from([flow.start.as_str()]);
    let mut seen = HashSet::new();
    while let Some(id) = queue.pop_front() {
        let Some(node) = flow.node(id) else { continue };
        if !seen.insert(id) {
            continue;
        }
        if matches!(node.kind, NodeKind::Menu { .. }) {
            return Some(node);
        }
        queue.extend(node.kind.auto_targets());
    }
    None
}

fn action_matches(node: &Node, name: &str, arg: Option<(&str, &str)>) -> bool {
    match &node.kind {
        NodeKind::Action { name: n, args, .. } => {
            *n == name && arg.is_none_or(|(k, v)| args.get(k).and_then(|a| a.as_str()) == Some(v))
        }
        _ => false,
    }
}

/// Whether any node of the flow could reach the point at all.
fn flow_has(flow: &Flow, point: &Point) -> bool {
    flow.nodes.values().any(|node| match *point {
        Point::EnterAction { name, arg } => action_matches(node, name, arg),
        Point::SayAfter { action } => action_matches(node, action, None),
        Point::InSay { var, .. } => {
            node.parts.iter().any(|p| matches!(p, Part::Say(text) if letters_before(text, var).is_some()))
        }
    })
}

// ---- The walk. ----

/// Where one path stands.
#[derive(Debug, Clone, Default)]
struct Path<'f> {
    t: f64,
    /// Where each `use` in progress returns to, innermost last.
    returns: Vec<&'f str>,
    /// Moments this path has reached (bit per [`MOMENTS`] index).
    reached: u64,
    /// `SayAfter` moments whose action has run, waiting for the next Say.
    waiting: u64,
    /// The main-menu key this path took.
    branch: Option<&'f str>,
    /// The outcome the start node took, when it is an action (`calm`, `storm`).
    opening: Option<&'f str>,
    /// When the server reaches each moment by itself on this path (see [`Moment::deadline`]).
    deadlines: [Option<f64>; MOMENTS.len()],
}

struct Walker<'f> {
    flow: &'f Flow,
    /// The point measured for each moment, if the flow has one.
    points: Vec<Option<Point>>,
    main_menu: Option<&'f str>,
    /// Nodes on the current path, and the path in order.
    visited: HashSet<&'f str>,
    trail: Vec<&'f str>,
    /// (main-menu key, moment index) → figure.
    figures: BTreeMap<(String, usize), Figure>,
    paths: usize,
}

impl<'f> Walker<'f> {
    /// Depth-first, one node at a time, each path ending where it meets a node it has already
    /// entered, a hangup, the queue or a return with nothing to return to.
    fn enter(&mut self, id: &'f str, mut path: Path<'f>) {
        if self.paths >= MAX_PATHS {
            return;
        }
        let Some(node) = self.flow.node(id) else { return self.end_path(&mut path) };
        if !self.visited.insert(id) {
            return self.end_path(&mut path);
        }
        self.trail.push(id);
        for (m, moment) in MOMENTS.iter().enumerate() {
            if let Some((Point::EnterAction { name, arg }, within_s)) = moment.deadline {
                if action_matches(node, name, arg) && path.deadlines[m].is_none() {
                    path.deadlines[m] = Some(path.t + within_s as f64);
                }
            }
            if let Some(Point::EnterAction { name, arg }) = self.points[m] {
                if action_matches(node, name, arg) {
                    self.reach(m, path.t, &mut path);
                }
            }
        }
        for part in &node.parts {
            self.speak(part, &mut path);
        }
        match &node.kind {
            NodeKind::Message { next } => self.enter(next, path),
            NodeKind::Menu { branches, .. } => {
                for (key, target) in branches {
                    let mut taken = path.clone();
                    taken.t += key_seconds(key);
                    if self.main_menu == Some(id) && taken.branch.is_none() {
                        taken.branch = Some(key.as_str());
                    }
                    self.enter(target, taken);
                }
            }
            NodeKind::Capture { gather, next, .. } => {
                path.t += capture_seconds(gather);
                self.enter(next, path);
            }
            NodeKind::Record { max_length_s, next, .. } => {
                path.t += f64::from(*max_length_s);
                self.enter(next, path);
            }
            NodeKind::Action { name, outcomes, .. } => {
                for m in 0..MOMENTS.len() {
                    if self.points[m] == Some(Point::SayAfter { action: name }) && path.reached & (1 << m) == 0 {
                        path.waiting |= 1 << m;
                    }
                }
                if id == self.flow.start {
                    for (opening, target) in outcomes {
                        self.enter(target, Path { opening: Some(opening), ..path.clone() });
                    }
                } else {
                    // Two outcomes routed to one node are one path.
                    let targets: BTreeSet<&str> = outcomes.values().map(String::as_str).collect();
                    for target in targets {
                        self.enter(target, path.clone());
                    }
                }
            }
            NodeKind::Use { sub, then } => {
                path.returns.push(then);
                self.enter(sub, path);
            }
            NodeKind::Return => match path.returns.pop() {
                Some(then) => self.enter(then, path),
                None => self.end_path(&mut path),
            },
            NodeKind::Enqueue { .. } | NodeKind::Dial { .. } | NodeKind::Hangup => self.end_path(&mut path),
        }
        self.trail.pop();
        self.visited.remove(id);
    }

    /// A path ends: a moment its deadline covers is reached on the server's timer.
    fn end_path(&mut self, path: &mut Path<'f>) {
        self.paths += 1;
        for m in 0..MOMENTS.len() {
            if let Some(at) = path.deadlines[m] {
                self.reach(m, at, path);
            }
        }
    }

    fn speak(&mut self, part: &Part, path: &mut Path<'f>) {
        match part {
            Part::Say(text) => {
                for m in 0..MOMENTS.len() {
                    if let Some(Point::InSay { var, into }) = self.points[m] {
                        if let Some(before) = letters_before(text, var) {
                            let into = into.unwrap_or_else(|| placeholder_letters(var));
                            self.reach(m, path.t + seconds(before + into), path);
                        }
                    }
                }
                path.t += seconds(template_letters(text));
                for m in 0..MOMENTS.len() {
                    if path.waiting & (1 << m) != 0 {
                        self.reach(m, path.t, path);
                    }
                }
                path.waiting = 0;
            }
            Part::Play(_) => path.t += PLAY_S,
            Part::Pause(s) => path.t += f64::from(*s),
        }
    }

    /// The path reaches moment `m` at `t` (only its first time counts).
    fn reach(&mut self, m: usize, t: f64, path: &mut Path<'f>) {
        if path.reached & (1 << m) != 0 {
            return;
        }
        let t = path.deadlines[m].map_or(t, |deadline| t.min(deadline));
        path.reached |= 1 << m;
        let key = (path.branch.unwrap_or_default().to_string(), m);
        let opening = path.opening.unwrap_or_default().to_string();
        let trail = || self.trail.iter().map(|s| s.to_string()).collect();
        match self.figures.get_mut(&key) {
            None => {
                let figure = Figure {
                    moment: &MOMENTS[m],
                    fastest_s: t,
                    fastest_by_opening: BTreeMap::from([(opening, t)]),
                    slowest_s: t,
                    slowest_path: trail(),
                };
                self.figures.insert(key, figure);
            }
            Some(figure) => {
                figure.fastest_s = figure.fastest_s.min(t);
                let by_opening = figure.fastest_by_opening.entry(opening).or_insert(t);
                *by_opening = by_opening.min(t);
                if t > figure.slowest_s {
                    figure.slowest_s = t;
                    figure.slowest_path = trail();
                }
            }
        }
    }
}

// ---- A way out for a caller who stops answering. ----

/// Questions from which a caller who never answers again (silence, or a wrong key each time)
/// never gets out: after the retries, the fallbacks lead round without ever reaching a hangup,
/// the operator queue or a return. `validate` only asks that *some* answer leads out.
fn no_way_out_for_silence(flow: &Flow) -> Vec<Problem> {
    // The least fixed point of "lets an unanswering caller go": every way on from the node
    // must; a cycle of fallbacks never gets in.
    let mut lets_go: HashMap<&str, bool> =
        flow.nodes.iter().map(|(id, n)| (id.as_str(), n.kind.ends_turn_for_good())).collect();
    loop {
        let mut changed = false;
        for (id, node) in &flow.nodes {
            if lets_go[id.as_str()] {
                continue;
            }
            let ok = |t: &String| lets_go.get(t.as_str()).copied().unwrap_or(false);
            let out = match &node.kind {
                NodeKind::Message { next } | NodeKind::Record { next, .. } => ok(next),
                NodeKind::Menu { no_input, invalid, .. } => ok(&no_input.then) && ok(&invalid.then),
                NodeKind::Capture { no_input, .. } => ok(&no_input.then),
                NodeKind::Action { outcomes, .. } => outcomes.values().all(ok),
                NodeKind::Use { sub, then } => ok(sub) && ok(then),
                NodeKind::Enqueue { .. } | NodeKind::Dial { .. } | NodeKind::Return | NodeKind::Hangup => true,
            };
            if out {
                lets_go.insert(id.as_str(), true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut stuck: Vec<&Node> = flow
        .nodes
        .values()
        .filter(|n| matches!(n.kind, NodeKind::Menu { .. } | NodeKind::Capture { .. }) && !lets_go[n.id.as_str()])
        .collect();
    stuck.sort_by(|a, b| a.id.cmp(&b.id));
    stuck
        .into_iter()
        .map(|n| {
            problem(
                &n.id,
                "no way out after the retries: a caller who stays silent or presses a wrong key goes round \
                 without reaching a hangup, the operator queue or a return"
                    .into(),
            )
        })
        .collect()
}

// ---- The table. ----

const WIDTH: usize = 100;

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width { text.to_string() } else { text.chars().take(width - 1).chain(['…']).collect() }
}

impl fmt::Display for Report {
    /// The figures as a plain-text table no wider than 100 columns, then the slowest path of
    /// every figure over its budget.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seconds from the answer, for a caller who hears every prompt to its end ({} paths{})",
            self.paths,
            if self.complete { "" } else { ", walk cut short" }
        )?;
        writeln!(
            f,
            "{:<18}  {:<26}  {:>7}  {:>7}  {:>6}",
            "main-menu branch", "key moment", "direct", "slowest", "budget"
        )?;
        for branch in &self.branches {
            let label = clip(&branch.label, 18);
            if branch.figures.is_empty() {
                writeln!(f, "{label:<18}  -")?;
            }
            for (i, figure) in branch.figures.iter().enumerate() {
                let budget = match (figure.moment.budget_s, figure.moment.over) {
                    (None, _) => "-".to_string(),
                    (Some(b), Over::Every) => format!("{b:.0} all"),
                    (Some(b), Over::Direct) => format!("{b:.0} dir"),
                };
                let line = format!(
                    "{:<18}  {:<26}  {:>7.1}  {:>7.1}  {:>6}{}",
                    if i == 0 { label.as_str() } else { "" },
                    figure.moment.name,
                    figure.direct_s(),
                    figure.slowest_s,
                    budget,
                    if figure.over_budget() { "  OVER" } else { "" }
                );
                writeln!(f, "{}", line.trim_end())?;
            }
        }
        for branch in &self.branches {
            for figure in branch.figures.iter().filter(|fig| fig.over_budget() && fig.moment.over == Over::Every) {
                writeln!(f, "slowest path, {} to {} ({:.1} s):", branch.label, figure.moment.name, figure.slowest_s)?;
                let mut line = String::from(" ");
                for (i, id) in figure.slowest_path.iter().enumerate() {
                    let step = if i == 0 { format!(" {id}") } else { format!(" > {id}") };
                    if line.chars().count() + step.chars().count() > WIDTH {
                        writeln!(f, "{line}")?;
                        line = String::from("   ");
                    }
                    line.push_str(&step);
                }
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ivr::validate;

    fn flow(files: &[(&str, &str)]) -> Flow {
        let sources: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        validate::check(&sources).unwrap_or_else(|p| panic!("{p}"))
    }

    /// A prompt of exactly `s` seconds.
    fn say(s: u32) -> String {
        "а".repeat((s * 14) as usize)
    }

    /// A main menu (after `before`) of `menu_s` seconds whose 1 goes to `one`, 0 to hang up.
    fn main_toml(before: &str, menu_s: u32, one: &str) -> String {
        format!(
            r#"
[flow]
start = "{start}"
{before}
[nodes.menu]
say = "{menu}"
gather = {{ digits = 1 }}
on = {{ "1" = "{one}", "0" = "bye", "*" = "menu" }}
no_input = {{ retries = 1, then = "bye" }}
invalid = {{ retries = 1, then = "bye" }}
[nodes.bye]
say = "До свидания."
hangup = true
"#,
            start = if before.is_empty() { "menu" } else { "welcome" },
            menu = say(menu_s),
        )
    }

    fn hazard_toml(intro_s: u32) -> String {
        format!(
            r#"
[nodes.start]
say = "{intro}"
next = "ticket"
[nodes.ticket]
do = "create_ticket"
with = {{ category = "hazard", priority = 1 }}
next = "told"
[nodes.told]
say = "Номер {{ticket_number}}."
enqueue = "operators"
next = "main.bye"
"#,
            intro = say(intro_s)
        )
    }

    fn figure<'r>(report: &'r Report, label: &str, moment: &str) -> &'r Figure {
        let branch = report.branches.iter().find(|b| b.label == label).unwrap_or_else(|| panic!("{report}"));
        branch.figures.iter().find(|f| f.moment.name == moment).unwrap_or_else(|| panic!("{report}"))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn letters_count_cyrillic_and_latin_and_digits_as_words() {
        assert_eq!(letters("Нет света — 2."), 8 + 5);
        assert_eq!(letters("SIP-адрес, ёлка!"), 3 + 5 + 4);
        assert_eq!(letters("112"), 15);
        assert_eq!(letters(" ,.—«»!? "), 0);
        assert_eq!(template_letters("Заявка {ticket_number}."), 6 + 30);
        assert_eq!(template_letters("{mystery}"), UNKNOWN_LETTERS);
        assert_eq!(letters_before("Пункт {settlement}: {planned_list}.", "planned_list"), Some(5 + 8));
        assert_eq!(letters_before("Пункт {settlement}.", "planned_list"), None);
    }

    #[test]
    fn a_path_over_budget_fails_and_one_within_passes() {
        // 20 s menu, 1 s key, 30 s intro: escalation at 51 s.
        let slow = flow(&[("main.toml", &main_toml("", 20, "hazard.start")), ("hazard.toml", &hazard_toml(30))]);
        let report = measure(&slow);
        let escalation = figure(&report, "1 hazard", "hazard escalation started");
        assert!(close(escalation.slowest_s, 51.0) && escalation.over_budget(), "{report}");
        assert_eq!(escalation.slowest_path, ["main.menu", "hazard.start", "hazard.ticket"]);
        let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            failures[0].starts_with("hazard.toml:ticket:hazard escalation started 51.0 s > budget 45 s (1 hazard"),
            "{failures:?}"
        );
        let table = report.to_string();
        assert!(table.contains("OVER") && table.contains("main.menu > hazard.start > hazard.ticket"), "{table}");
        // The ticket number: «Номер» and the number's 30 letters after it.
        assert!(close(figure(&report, "1 hazard", "ticket number").slowest_s, 51.0 + 35.0 / 14.0));

        let quick = flow(&[("main.toml", &main_toml("", 20, "hazard.start")), ("hazard.toml", &hazard_toml(20))]);
        let report = measure(&quick);
        assert!(report.passed(), "{:?}", report.failures);
        assert!(!report.to_string().contains("OVER"));
        assert!(report.to_string().lines().all(|l| l.chars().count() <= WIDTH));
    }

    #[test]
    fn both_storm_outcomes_are_walked_and_the_worst_is_reported() {
        let before = format!(
            r#"
[nodes.welcome]
do = "storm_mode"
outcomes = {{ calm = "calm", storm = "storm" }}
[nodes.calm]
say = "{}"
next = "menu"
[nodes.storm]
say = "{}"
next = "menu"
"#,
            say(1),
            say(10)
        );
        let f = flow(&[("main.toml", &main_toml(&before, 20, "hazard.start")), ("hazard.toml", &hazard_toml(20))]);
        let report = measure(&f);
        let escalation = figure(&report, "1 hazard", "hazard escalation started");
        assert!(close(escalation.fastest_s, 1.0 + 20.0 + 1.0 + 20.0), "{report}");
        assert!(close(escalation.slowest_s, 10.0 + 20.0 + 1.0 + 20.0), "{report}");
        assert_eq!(escalation.slowest_path[1], "main.storm");
        // Over budget in storm mode only: that still fails.
        assert!(!report.passed());
    }

    #[test]
    fn use_comes_back_to_each_caller_and_counts_the_postcode() {
        let main = main_toml("", 2, "a.start").replace(r#""0" = "bye""#, r#""0" = "b.start""#);
        let a = r#"
[nodes.start]
use = "loc.start"
next = "after"
[nodes.after]
do = "create_ticket"
with = { category = "hazard" }
next = "main.bye"
"#;
        let b = r#"
[nodes.start]
use = "loc.start"
next = "after"
[nodes.after]
do = "outage_status"
outcomes = { planned = "said", incident = "said", reports = "said", unknown = "main.bye" }
[nodes.said]
say = ["Свет дадут {outage_end}.", "Ещё что-то."]
hangup = true
"#;
        let loc = format!(
            r#"
[nodes.start]
say = "{}"
gather = {{ input = "dtmf speech", digits = 6, hints = "settlements" }}
capture = "location"
next = "found"
no_input = {{ retries = 1, then = "main.bye" }}
[nodes.found]
return = true
"#,
            say(3)
        );
        let f = flow(&[("main.toml", &main), ("a.toml", a), ("b.toml", b), ("loc.toml", &loc)]);
        let report = measure(&f);
        // 2 s menu, 1 s key, 3 s question, 4 s postcode.
        let escalation = figure(&report, "1 a", "hazard escalation started");
        assert!(close(escalation.slowest_s, 10.0), "{report}");
        assert_eq!(escalation.slowest_path, ["main.menu", "a.start", "loc.start", "loc.found", "a.after"]);
        // The no-power status ends with the first Say after the action.
        let status = figure(&report, "0 b", "no-power status");
        assert!(close(status.slowest_s, 10.0 + f64::from(9 + 25) / 14.0), "{report}");
        assert!(report.passed(), "{:?}", report.failures);
    }

    #[test]
    fn loops_back_end_the_path_and_the_walk_terminates() {
        let main = main_toml("", 2, "x.start");
        let x = r#"
[nodes.start]
say = "Снова?"
gather = { digits = 1 }
on = { "1" = "start", "9" = "main.menu", "2" = "wait" }
no_input = { retries = 1, then = "main.bye" }
invalid = { retries = 1, then = "main.bye" }
[nodes.wait]
do = "estimate_wait"
outcomes = { short = "start", long = "main.menu", nobody = "main.menu" }
"#;
        let report = measure(&flow(&[("main.toml", &main), ("x.toml", x)]));
        assert!(report.complete && report.passed(), "{report}");
        // menu→bye; menu→x→(start, menu: both seen)→…: a handful of paths, not an endless walk.
        assert!(report.paths < 10, "{}", report.paths);
        let labels: Vec<&str> = report.branches.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["1 x", "0 bye"], "* leads straight back and has no row");
    }

    #[test]
    fn the_first_planned_time_is_heard_inside_the_list() {
        let main = main_toml("", 2, "p.start");
        let p = r#"
[nodes.start]
do = "planned_outages"
outcomes = { some = "read", none = "main.bye" }
[nodes.read]
say = ["Отключения: {planned_list}.", "Ещё раз: {planned_list}."]
hangup = true
"#;
        let report = measure(&flow(&[("main.toml", &main), ("p.toml", p)]));
        let heard = figure(&report, "1 p", "first planned-outage time");
        assert!(close(heard.slowest_s, 3.0 + f64::from(10 + PLANNED_FIRST_TIME_AT) / 14.0), "{report}");
    }

    #[test]
    fn escalate_is_measured_once_the_scripts_have_it() {
        let hazard = hazard_toml(5).replace("next = \"told\"", "next = \"esc\"")
            + "[nodes.esc]\ndo = \"storm_mode\"\noutcomes = { calm = \"told\", storm = \"told\" }\nsay = \"Оповещаю.\"\n";
        let mut f = flow(&[("main.toml", &main_toml("", 2, "hazard.start")), ("hazard.toml", &hazard)]);
        assert!(close(figure(&measure(&f), "1 hazard", "hazard escalation started").slowest_s, 8.0));
        // Stands in for the action the other branch adds to the catalogue.
        if let Some(NodeKind::Action { name, .. }) = f.nodes.get_mut("hazard.esc").map(|n| &mut n.kind) {
            *name = "escalate";
        }
        let report = measure(&f);
        let escalation = figure(&report, "1 hazard", "hazard escalation started");
        assert_eq!(escalation.slowest_path.last().map(String::as_str), Some("hazard.esc"));
    }

    #[test]
    fn a_question_whose_fallbacks_go_round_has_no_way_out() {
        // Valid for `validate` (1 leads out), but a silent caller is asked for ever.
        let main = main_toml("", 2, "bye").replace(r#"retries = 1, then = "bye""#, r#"retries = 1, then = "menu""#);
        let report = measure(&flow(&[("main.toml", &main)]));
        let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].starts_with("main.toml:menu:no way out after the retries"), "{failures:?}");
    }
}
