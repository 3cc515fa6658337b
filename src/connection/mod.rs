//! Technological connection: applications to be connected to the grid, imported from the
//! utility's records so callers can hear their application's status by number.

pub mod http;

use jiff::tz::TimeZone;

use crate::clock::Timestamp;
use crate::error::LineError;
use crate::outages::parse_time;

/// A connection application as callers and operators ask about it.
#[derive(Debug, Clone, serde::Serialize, PartialEq, utoipa::ToSchema)]
pub struct Application {
    pub number: String,
    pub applicant: String,
    pub status: String,
    pub updated_at: Timestamp,
}

/// Reads `number,applicant,status,updated_at`: every row checked, any bad row refuses the file.
pub fn parse_csv(text: &str, tz: &TimeZone) -> Result<Vec<Application>, Vec<LineError>> {
    let mut seen = std::collections::HashSet::new();
    crate::csv_import::parse(text, &["number", "applicant", "status", "updated_at"], "applications", |record| {
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
            (true, Some(updated_at)) => Ok(Application {
                number: number.to_string(),
                applicant: record[1].to_string(),
                status: record[2].to_string(),
                updated_at,
            }),
            _ => Err(problems),
        }
    })
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
