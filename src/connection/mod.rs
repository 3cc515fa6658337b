//! Technological connection: applications to be connected to the grid, imported from the
//! utility's records so callers can hear their application's status by number.

pub mod http;

use jiff::tz::TimeZone;

use crate::error::LineError;
use crate::outages::parse_time;
use crate::store::Application;

/// Reads `number,applicant,status,updated_at`: every row checked, any bad row refuses the file.
pub fn parse_csv(text: &str, tz: &TimeZone) -> Result<Vec<Application>, Vec<LineError>> {
    let expected = ["number", "applicant", "status", "updated_at"];
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let header_ok = reader
        .headers()
        .map(|h| h.iter().map(|f| f.trim_start_matches('\u{feff}')).eq(expected.iter().copied()))
        .unwrap_or(false);
    if !header_ok {
        return Err(vec![LineError { line: 1, message: format!("the header must be: {}", expected.join(",")) }]);
    }
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
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
        if record.len() != 4 {
            errors.push(LineError { line, message: format!("expected 4 fields, found {}", record.len()) });
            continue;
        }
        let mut problems = Vec::new();
        // Callers type the number on a keypad: digits only.
        let number = &record[0];
        if number.is_empty() || number.len() > 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("number '{number}' must be 1 to 20 digits"));
        } else if !seen.insert(number.to_string()) {
            problems.push(format!("number {number} appears twice in the file"));
        }
        for (field, value) in [("applicant", &record[1]), ("status", &record[2])] {
            if value.is_empty() || value.chars().count() > 300 {
                problems.push(format!("{field} must be 1 to 300 characters"));
            }
        }
        let updated_at = parse_time(&record[3], tz).map_err(|e| problems.push(format!("updated_at: {e}"))).ok();
        match (problems.is_empty(), updated_at) {
            (true, Some(updated_at)) => rows.push(Application {
                number: number.to_string(),
                applicant: record[1].to_string(),
                status: record[2].to_string(),
                updated_at,
            }),
            _ => errors.push(LineError { line, message: problems.join("; ") }),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(LineError { line: 2, message: "the file has no applications".into() });
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_application_rows_are_named_by_line() {
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let text = "number,applicant,status,updated_at\n20261234,Иванов И.И.,договор направлен,2026-11-20T10:00\n\
                    12-34,Петров,в работе,2026-11-20\n20261234,Сидоров,исполнена,2026-11-21T10:00\n";
        let errors = parse_csv(text, &tz).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4]);
    }
}
