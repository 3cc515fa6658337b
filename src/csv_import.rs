//! The shape every CSV import shares: a fixed header, every row checked, and any bad row
//! refusing the whole file with each problem named by its line number.

use serde::Serialize;

use crate::error::LineError;

/// Imports are larger than ordinary requests: a region's settlement list runs to megabytes.
pub const IMPORT_LIMIT: usize = 8 * 1024 * 1024;

/// What an import answers: how many rows were stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub imported: usize,
}

/// Reads `text` whose header must be exactly `header`; `row` checks one record (with exactly
/// `header.len()` fields) and returns the value or its problems. `what` names the rows in the
/// message for an empty file ("settlements").
pub fn parse<T>(
    text: &str,
    header: &[&str],
    what: &str,
    mut row: impl FnMut(&csv::StringRecord) -> Result<T, Vec<String>>,
) -> Result<Vec<T>, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    // A spreadsheet's byte-order mark is not part of the first column's name.
    let header_ok = reader
        .headers()
        .map(|h| h.iter().map(|f| f.trim_start_matches('\u{feff}')).eq(header.iter().copied()))
        .unwrap_or(false);
    if !header_ok {
        return Err(vec![LineError { line: 1, message: format!("the header must be: {}", header.join(",")) }]);
    }
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                errors.push(LineError { line, message: format!("unreadable row: {e}") });
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.len() != header.len() {
            errors
                .push(LineError { line, message: format!("expected {} fields, found {}", header.len(), record.len()) });
            continue;
        }
        match row(&record) {
            Ok(value) => rows.push(value),
            Err(problems) => errors.push(LineError { line, message: problems.join("; ") }),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(LineError { line: 2, message: format!("the file has no {what}") });
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}
