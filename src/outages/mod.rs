//! Outages: planned outages (imported schedules), incidents (outage reports from one settlement
//! grouped, with the restoration time dispatchers set), storm mode, and how all of it is said
//! to a caller.

pub mod http;

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::crews::CrewStatus;
use crate::error::LineError;
use crate::ivr::russian;
use crate::settlements::{Settlement, SettlementRef, fold_name};
use crate::text_enum::text_enum;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct PlannedOutage {
    pub id: String,
    pub settlement: SettlementRef,
    /// The settlement's postcode again, as schedules name it (SPEC's field list).
    pub postcode: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub streets: Option<String>,
    pub reason: Option<String>,
    /// Sample data shipped for a first look.
    pub demo: bool,
}

/// A planned outage to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlannedOutage {
    pub settlement_id: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub streets: Option<String>,
    pub reason: Option<String>,
    pub demo: bool,
}

text_enum! {
    pub enum IncidentStatus {
        Open = "open",
        /// A crew is on it.
        InProgress = "in_progress",
        Resolved = "resolved",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Incident {
    pub id: String,
    pub settlement: SettlementRef,
    pub status: IncidentStatus,
    /// Estimated restoration time: what the next callers from the settlement hear.
    pub etr: Option<Timestamp>,
    /// The crew sent to it, and where that crew is now: callers hear it.
    pub crew_id: Option<String>,
    pub crew_status: Option<CrewStatus>,
    /// Outage reports grouped into it.
    pub reports: i64,
    /// Callers waiting for the call that tells them the power is back (not yet rung).
    pub power_back_waiting: i64,
    pub opened_at: Timestamp,
    pub last_report_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Incident {
    /// A dispatcher has confirmed it: work started, a crew sent or a restoration time set.
    /// Until then it is only what callers reported.
    pub fn confirmed(&self) -> bool {
        self.status == IncidentStatus::InProgress || self.etr.is_some() || self.crew_id.is_some()
    }
}

/// The switch a supervisor turns storm mode on and off with.
pub const STORM_SWITCH: &str = "storm_mode";

/// What storm mode depends on, read together: the supervisor's switch, if set, and the
/// incidents open now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StormInputs {
    pub manual: Option<String>,
    pub open_incidents: i64,
}

impl StormInputs {
    /// On when a supervisor says so, or (unless a supervisor switched it off) when `threshold`
    /// incidents are open at once.
    pub fn storm_on(&self, threshold: i64) -> bool {
        match self.manual.as_deref() {
            Some("on") => true,
            Some("off") => false,
            _ => self.open_incidents >= threshold,
        }
    }
}

/// Reads an ISO 8601 time: with an offset (`2026-11-28T09:00:00+03:00`, `...Z`) as given, without
/// one (`2026-11-28T09:00`) in the hotline's time zone, since that is how schedules are written.
pub fn parse_time(raw: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<jiff::Timestamp>() {
        return Ok(t.into());
    }
    raw.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp().into())
        .ok_or_else(|| format!("'{raw}' is not an ISO 8601 time such as 2026-11-28T09:00"))
}

/// The settlement a schedule names by postcode and, where the postcode is shared, by name
/// (compared folded: case and ё do not matter).
pub fn settlement_at<'s>(
    settlements: &'s [Settlement],
    postcode: &str,
    name: Option<&str>,
) -> Result<&'s Settlement, String> {
    let postcode = postcode.trim();
    let wanted = name.map(fold_name).filter(|n| !n.is_empty());
    let mut found = settlements
        .iter()
        .filter(|s| s.postcode == postcode && wanted.as_ref().is_none_or(|w| fold_name(&s.name) == *w));
    match (found.next(), found.next(), name) {
        (Some(settlement), None, _) => Ok(settlement),
        (Some(_), Some(_), _) => Err(format!("postcode {postcode} is shared by several settlements: name one")),
        (None, _, Some(name)) => Err(format!("no settlement '{name}' with postcode {postcode}")),
        (None, _, None) => Err(format!("no settlement with postcode {postcode}")),
    }
}

/// Reads `postcode,settlement,starts_at,ends_at,streets,reason`. Every row is checked against
/// the known settlements; one bad row refuses the file, each problem named by its line.
pub fn parse_planned_csv(
    text: &str,
    settlements: &[Settlement],
    tz: &TimeZone,
) -> Result<Vec<NewPlannedOutage>, Vec<LineError>> {
    let header = ["postcode", "settlement", "starts_at", "ends_at", "streets", "reason"];
    crate::csv_import::parse(text, &header, "planned outages", |record| {
        let mut problems = Vec::new();
        let settlement = settlement_at(settlements, &record[0], Some(&record[1])).map_err(|e| problems.push(e)).ok();
        let starts = parse_time(&record[2], tz).map_err(|e| problems.push(format!("starts_at: {e}"))).ok();
        let ends = parse_time(&record[3], tz).map_err(|e| problems.push(format!("ends_at: {e}"))).ok();
        if let (Some(s), Some(e)) = (starts, ends) {
            if e <= s {
                problems.push("ends_at must be after starts_at".into());
            }
        }
        for (field, value) in [("streets", &record[4]), ("reason", &record[5])] {
            if value.chars().count() > 1000 {
                problems.push(format!("{field} is longer than 1000 characters"));
            }
        }
        match (problems.is_empty(), settlement, starts, ends) {
            (true, Some(settlement), Some(starts_at), Some(ends_at)) => Ok(NewPlannedOutage {
                settlement_id: settlement.id,
                starts_at,
                ends_at,
                streets: Some(record[4].to_string()).filter(|s| !s.is_empty()),
                reason: Some(record[5].to_string()).filter(|s| !s.is_empty()),
                demo: false,
            }),
            _ => Err(problems),
        }
    })
}

fn local(t: Timestamp, tz: &TimeZone) -> jiff::civil::DateTime {
    t.to_jiff().to_zoned(tz.clone()).datetime()
}

/// «сегодня», «вчера», «двадцатого ноября»: the day of `t` as said on the day of `now`.
pub fn spoken_date(t: Timestamp, now: Timestamp, tz: &TimeZone) -> String {
    russian::spoken_day(local(t, tz).date(), local(now, tz).date())
}

/// «завтра, с девяти до семнадцати часов»; across midnight «с двадцати двух часов первого
/// декабря до шести часов второго декабря».
pub fn spoken_window(start: Timestamp, end: Timestamp, now: Timestamp, tz: &TimeZone) -> String {
    russian::time_window(local(start, tz), local(end, tz), local(now, tz).date())
}

/// «сегодня к семнадцати часам», «завтра к восьми тридцати»: when power returns.
pub fn spoken_until(end: Timestamp, now: Timestamp, tz: &TimeZone) -> String {
    russian::by_time(local(end, tz), local(now, tz).date())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msk() -> TimeZone {
        TimeZone::get("Europe/Moscow").unwrap()
    }

    #[test]
    fn a_supervisors_switch_overrides_the_incident_threshold_both_ways() {
        let inputs =
            |manual: Option<&str>, open_incidents| StormInputs { manual: manual.map(String::from), open_incidents };
        assert!(!inputs(None, 9).storm_on(10));
        assert!(inputs(None, 10).storm_on(10));
        assert!(inputs(Some("on"), 0).storm_on(10));
        assert!(!inputs(Some("off"), 50).storm_on(10));
    }

    #[test]
    fn times_are_spoken_naturally_in_russian() {
        let tz = msk();
        let t = |s: &str| parse_time(s, &tz).unwrap();
        let now = t("2026-11-28T10:00");
        assert_eq!(
            spoken_window(t("2026-11-28T09:00"), t("2026-11-28T17:00"), now, &tz),
            "сегодня, с девяти до семнадцати часов"
        );
        assert_eq!(
            spoken_window(t("2026-11-30T09:30"), t("2026-11-30T13:45"), now, &tz),
            "тридцатого ноября, с девяти тридцати до тринадцати сорока пяти"
        );
        assert_eq!(
            spoken_window(t("2026-12-01T22:00"), t("2026-12-02T06:00"), now, &tz),
            "с двадцати двух часов первого декабря до шести часов второго декабря"
        );
        assert_eq!(spoken_until(t("2026-11-28T21:00"), now, &tz), "сегодня к двадцати одному часу");
        assert_eq!(spoken_until(t("2026-11-29T08:30"), now, &tz), "завтра к восьми тридцати");
        assert_eq!(spoken_until(t("2026-11-30T19:00"), now, &tz), "тридцатого ноября к девятнадцати часам");
        assert_eq!(spoken_date(t("2026-11-20T10:00"), now, &tz), "двадцатого ноября");
        assert_eq!(spoken_date(t("2026-11-28T00:30"), now, &tz), "сегодня");
        // The day is the hotline's: 23:30 UTC on the 27th is already the 28th in Moscow.
        assert_eq!(spoken_date(t("2026-11-27T23:30:00Z"), now, &tz), "сегодня");
    }

    #[test]
    fn times_without_an_offset_are_local() {
        let tz = msk();
        assert_eq!(parse_time("2026-11-28T09:00", &tz).unwrap(), parse_time("2026-11-28T06:00:00Z", &tz).unwrap());
        assert_eq!(
            parse_time("2026-11-28T09:00:00+03:00", &tz).unwrap(),
            parse_time("2026-11-28T06:00Z", &tz).unwrap()
        );
        assert!(parse_time("28.11.2026 9:00", &tz).is_err());
    }

    #[test]
    fn every_bad_planned_row_is_named_by_line() {
        let settlements = vec![Settlement {
            id: 6,
            name: "Углич".into(),
            kind: "город".into(),
            district: "Угличский район".into(),
            postcode: "152610".into(),
        }];
        let text = "postcode,settlement,starts_at,ends_at,streets,reason\n\
                    152610,Углич,2026-12-01T09:00,2026-12-01T17:00,\"ул. Ленина, ул. Мира\",ремонт\n\
                    152610,Углич,2026-12-01T17:00,2026-12-01T09:00,,\n\
                    999999,Нигде,2026-12-01T09:00,2026-12-01T17:00,,\n\
                    152610,Углич,завтра,2026-12-01T17:00,,\n";
        let errors = parse_planned_csv(text, &settlements, &msk()).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(errors[0].message.contains("after"));
        let good =
            "postcode,settlement,starts_at,ends_at,streets,reason\n152610,углич,2026-12-01T09:00,2026-12-01T17:00,,\n";
        assert_eq!(parse_planned_csv(good, &settlements, &msk()).unwrap()[0].settlement_id, 6);
    }
}
