//! The IVR: menus as data (`ivr-scripts/*.toml`), checked into a [`flow::Flow`] and run by a
//! small interpreter, (node, input) -> (actions, next node, effects).

pub mod actions;
pub mod budget;
pub mod engine;
pub mod flow;
pub mod phrases;
pub mod russian;
pub mod script;
pub mod speech;
pub mod validate;

pub use flow::Flow;
pub use phrases::Phrases;
pub use validate::{Problems, load_dir};

use std::path::Path;

/// The default menus, built into the binary so `serve` works from any folder.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("main.toml", include_str!("../../ivr-scripts/main.toml")),
    ("location.toml", include_str!("../../ivr-scripts/location.toml")),
    ("hazard.toml", include_str!("../../ivr-scripts/hazard.toml")),
    ("outage.toml", include_str!("../../ivr-scripts/outage.toml")),
    ("theft.toml", include_str!("../../ivr-scripts/theft.toml")),
    ("connection.toml", include_str!("../../ivr-scripts/connection.toml")),
    ("dispatcher.toml", include_str!("../../ivr-scripts/dispatcher.toml")),
    ("power_back.toml", include_str!("../../ivr-scripts/power_back.toml")),
    (phrases::FILE, BUILT_IN_PHRASES),
];

/// The phrases a scripts folder without its own `phrases.toml` speaks.
const BUILT_IN_PHRASES: &str = include_str!("../../ivr-scripts/phrases.toml");

/// The flow `serve` runs: the folder named by HOTLINE_SCRIPTS_DIR, else `./ivr-scripts` if
/// present, else the built-in menus. Any problem stops the start with every problem listed.
pub fn load(configured: Option<&Path>) -> anyhow::Result<(Flow, String)> {
    let default = Path::new("ivr-scripts");
    let dir = match configured {
        Some(dir) => Some(dir),
        None if default.is_dir() => Some(default),
        None => None,
    };
    match dir {
        Some(dir) => load_dir(dir)
            .map(|flow| (flow, dir.display().to_string()))
            .map_err(|problems| anyhow::anyhow!("the IVR scripts in {} have problems:\n{problems}", dir.display())),
        None => {
            let sources: Vec<(String, String)> = BUILT_IN.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
            validate::check(&sources)
                .map(|flow| (flow, "built-in menus".to_string()))
                .map_err(|problems| anyhow::anyhow!("the built-in IVR scripts have problems:\n{problems}"))
        }
    }
}
