//! Demo content, so `serve` on a fresh clone is a working hotline: planned outages around today
//! and sample connection applications. Marked as demo, switched off by HOTLINE_DEMO=off, and
//! only ever loaded into a database nobody has used.

use crate::clock::Timestamp;
use crate::connection::Application;
use crate::outages::NewPlannedOutage;
use crate::store::{SettlementQuery, Store};

/// Loads the samples when the database is untouched; says how many rows it added.
pub async fn load_if_pristine(store: &Store, tz: &jiff::tz::TimeZone, now: Timestamp) -> anyhow::Result<Option<usize>> {
    if !store.is_pristine().await? {
        return Ok(None);
    }
    let today = now.to_jiff().to_zoned(tz.clone()).start_of_day()?;
    let at = |days: i64, hour: i64| -> anyhow::Result<Timestamp> {
        Ok(today.checked_add(jiff::Span::new().days(days).hours(hour))?.timestamp().into())
    };
    let settlement = |postcode: &str| {
        let store = store.clone();
        let query = SettlementQuery { postcode: Some(postcode.to_string()), name: None };
        async move { Ok::<_, anyhow::Error>(store.find_settlements(&query).await?.into_iter().next().map(|s| s.id)) }
    };
    let mut planned = Vec::new();
    // (postcode, days from today, from hour, to hour, streets)
    let schedule = [
        ("152610", 0, 9, 17, "ул. Ленина, ул. Победы"),
        ("152610", 2, 10, 14, "ул. Ярославская"),
        ("152150", 1, 9, 16, "ул. Фрунзе, ул. Окружная"),
        ("150000", 3, 8, 12, "ул. Свободы, дома 1–15"),
        ("152240", 5, 13, 17, "пер. Садовый"),
    ];
    for (postcode, day, from, to, streets) in schedule {
        if let Some(settlement_id) = settlement(postcode).await? {
            planned.push(NewPlannedOutage {
                settlement_id,
                starts_at: at(day, from)?,
                ends_at: at(day, to)?,
                streets: Some(streets.to_string()),
                reason: Some("Плановый ремонт оборудования (демонстрационные данные)".into()),
                demo: true,
            });
        }
    }
    let applications = [
        ("20260001", "Иванов И. И.", "договор и технические условия направлены в личный кабинет", -3),
        ("20260002", "ООО «Ромашка»", "выполняются мероприятия по технологическому присоединению", -10),
        ("20260003", "Петрова А. С.", "присоединение выполнено, акт направлен", -1),
    ];
    let mut samples = Vec::new();
    for (number, applicant, status, days) in applications {
        samples.push(Application {
            number: number.into(),
            applicant: applicant.into(),
            status: status.into(),
            updated_at: at(days, 12)?,
        });
    }
    let added =
        store.add_planned_outages(&planned, now).await?.len() + store.upsert_applications(&samples, true).await?;
    Ok(Some(added))
}
