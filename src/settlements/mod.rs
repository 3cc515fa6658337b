//! Settlements of the region with their postcodes: the reference data that locates a caller.

pub mod http;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::LineError;

/// The region's settlements, loaded into an empty database on first start.
pub const DEFAULT_CSV: &str = include_str!("yaroslavl.csv");

#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Settlement {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub district: String,
    pub postcode: String,
}

/// The short form a ticket carries.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct SettlementRef {
    pub id: i64,
    pub name: String,
    pub postcode: String,
}

/// A settlement read from a CSV row, not yet stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SettlementRow {
    pub name: String,
    pub kind: String,
    pub district: String,
    pub postcode: Postcode,
}

/// A Russian postcode: exactly six digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!("postcode '{raw}' must be exactly six digits"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Words that name a kind of settlement rather than the settlement itself.
const KIND_WORDS: &[&str] = &[
    "город",
    "г",
    "посёлок",
    "поселок",
    "пос",
    "п",
    "пгт",
    "село",
    "с",
    "деревня",
    "дер",
    "д",
    "рабочий",
    "городского",
    "типа",
];

/// A settlement name folded for matching what a caller said or typed: lower case, ё as е,
/// hyphens as spaces, kind words ("город", "посёлок") dropped, spaces collapsed.
pub fn fold_name(name: &str) -> String {
    let lowered = name.to_lowercase().replace('ё', "е");
    lowered
        .split(|c: char| c.is_whitespace() || c == '-' || c == '.' || c == ',')
        .filter(|word| !word.is_empty() && !KIND_WORDS.iter().any(|k| k.replace('ё', "е") == *word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Settlements a caller may have meant by `said` (speech, so possibly misheard): an exact match
/// of the folded name wins; otherwise names within a small edit distance, closest first.
pub fn match_spoken<'a>(said: &str, settlements: &'a [Settlement]) -> Vec<&'a Settlement> {
    let said = fold_name(said);
    if said.chars().count() < 3 {
        return Vec::new();
    }
    let exact: Vec<&Settlement> = settlements.iter().filter(|s| fold_name(&s.name) == said).collect();
    if !exact.is_empty() {
        return exact;
    }
    // One slip per five letters: "углеч" finds Углич, "ростов великий" finds Ростов by its first word.
    let mut close: Vec<(usize, &Settlement)> = settlements
        .iter()
        .filter_map(|s| {
            let name = fold_name(&s.name);
            let allowed = (name.chars().count() / 5).max(1);
            let whole = edit_distance(&said, &name);
            let first_words = said.split(' ').take(name.split(' ').count()).collect::<Vec<_>>().join(" ");
            let distance = whole.min(edit_distance(&first_words, &name));
            (distance <= allowed).then_some((distance, s))
        })
        .collect();
    close.sort_by_key(|(d, s)| (*d, s.name.clone()));
    match close.first() {
        Some((best, _)) => {
            let best = *best;
            close.into_iter().filter(|(d, _)| *d == best).map(|(_, s)| s).collect()
        }
        None => Vec::new(),
    }
}

/// Levenshtein distance over characters (Cyrillic letters count as one each).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Reads a settlements file (`name,type,district,postcode` with that header). Every row is
/// checked; any bad row makes the whole file refused, with each problem by line number.
pub fn parse_csv(text: &str) -> Result<Vec<SettlementRow>, Vec<LineError>> {
    let mut seen = std::collections::HashSet::new();
    crate::csv_import::parse(text, &["name", "type", "district", "postcode"], "settlements", |record| {
        let mut problems = Vec::new();
        for (field, value) in ["name", "type", "district"].iter().zip(record.iter()) {
            if value.is_empty() {
                problems.push(format!("{field} is empty"));
            } else if value.chars().count() > 200 {
                problems.push(format!("{field} is longer than 200 characters"));
            }
        }
        let postcode = Postcode::parse(&record[3]).map_err(|e| problems.push(e)).ok();
        if !seen.insert((record[0].to_string(), record[2].to_string())) {
            problems.push(format!("'{}' in '{}' appears twice in the file", &record[0], &record[2]));
        }
        match (problems.is_empty(), postcode) {
            (true, Some(postcode)) => Ok(SettlementRow {
                name: record[0].to_string(),
                kind: record[1].to_string(),
                district: record[2].to_string(),
                postcode,
            }),
            _ => Err(problems),
        }
    })
}

/// Loads the bundled settlements into a database that has none, so a fresh install can locate
/// callers at once; an operator's own import is never overwritten.
pub async fn load_defaults(store: &crate::store::Store) -> anyhow::Result<Option<usize>> {
    if store.count_settlements().await? > 0 {
        return Ok(None);
    }
    let rows = parse_csv(DEFAULT_CSV).map_err(|e| anyhow::anyhow!("the bundled settlements file is invalid: {e:?}"))?;
    Ok(Some(store.upsert_settlements(&rows).await?))
}

/// How long the names a recogniser is hinted with are reused before they are read again.
const HINTS_FRESH_FOR: Duration = Duration::from_secs(60);

/// Settlement names for the speech recogniser's hints, read at most once a minute: every
/// location question offers them, and they change only when staff import settlements (this
/// instance forgets them then; another instance within the minute).
#[derive(Debug, Default)]
pub struct NameHints(Mutex<Option<(Instant, Arc<Vec<String>>)>>);

impl NameHints {
    /// The names read less than a minute ago, if any.
    pub fn fresh(&self) -> Option<Arc<Vec<String>>> {
        let cached = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cached.as_ref().filter(|(read, _)| read.elapsed() < HINTS_FRESH_FOR).map(|(_, names)| names.clone())
    }

    /// Keeps the names just read.
    pub fn keep(&self, names: Vec<String>) -> Arc<Vec<String>> {
        let names = Arc::new(names);
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((Instant::now(), names.clone()));
        names
    }

    /// The settlements changed: the next question reads them again.
    pub fn forget(&self) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_kept_until_forgotten() {
        let hints = NameHints::default();
        assert!(hints.fresh().is_none());
        hints.keep(vec!["Углич".into()]);
        assert_eq!(hints.fresh().as_deref(), Some(&vec!["Углич".to_string()]));
        hints.forget();
        assert!(hints.fresh().is_none());
    }

    #[test]
    fn the_bundled_file_is_valid() {
        let rows = parse_csv(DEFAULT_CSV).unwrap();
        assert_eq!(rows.len(), 20);
        assert!(rows.iter().any(|r| r.name == "Углич" && r.postcode.as_str() == "152610"));
    }

    #[test]
    fn every_bad_row_is_reported_by_line() {
        let text = "name,type,district,postcode\nА,город,Р,15215\nБ,город,Р,152150\n,село,Р,152151\nБ,город,Р,152150\n";
        let errors = parse_csv(text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 4, 5], "{errors:?}");
        assert!(errors[0].message.contains("six digits"));
        assert!(parse_csv("city,postcode\nX,150000\n").unwrap_err()[0].message.contains("header"));
    }

    #[test]
    fn spoken_names_tolerate_case_hyphens_kind_words_and_slips() {
        let all: Vec<Settlement> = parse_csv(DEFAULT_CSV)
            .unwrap()
            .into_iter()
            .enumerate()
            .map(|(i, r)| Settlement {
                id: i as i64 + 1,
                name: r.name,
                kind: r.kind,
                district: r.district,
                postcode: r.postcode.as_str().into(),
            })
            .collect();
        let best = |said: &str| match_spoken(said, &all).iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(best("ростов великий"), vec!["Ростов"]);
        assert_eq!(best("Гаврилов Ям"), vec!["Гаврилов-Ям"]);
        assert_eq!(best("углич"), vec!["Углич"]);
        assert_eq!(best("город углеч"), vec!["Углич"]);
        assert_eq!(best("поселок Борисоглебский"), vec!["Борисоглебский"]);
        assert!(best("абракадабра").is_empty());
        assert!(best("да").is_empty());
    }

    #[test]
    fn names_fold_for_matching() {
        assert_eq!(fold_name("Гаврилов-Ям"), "гаврилов ям");
        assert_eq!(fold_name("посёлок  Пречистое"), "пречистое");
        assert_eq!(fold_name("город Углич"), "углич");
    }
}
