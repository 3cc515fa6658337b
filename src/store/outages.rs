//! Planned outages, incidents, connection applications and switches (storm mode).

use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{Store, StoreError, StoreResult, WriteTx, crews, events, new_id, outbox, power_back};
use crate::clock::Timestamp;
use crate::connection::Application;
use crate::crews::Crew;
use crate::escalation::mail::NewMessage;
use crate::outages::{Incident, IncidentStatus, NewPlannedOutage, PlannedOutage, STORM_SWITCH, StormInputs};
use crate::settlements::SettlementRef;

const SELECT_PLANNED: &str = "SELECT p.id, p.settlement_id, s.name AS settlement_name, s.postcode AS settlement_postcode, \
     p.starts_at, p.ends_at, p.streets, p.reason, p.demo FROM planned_outages p JOIN settlements s ON s.id = p.settlement_id";

const SELECT_INCIDENTS: &str = "SELECT i.id, i.settlement_id, s.name AS settlement_name, s.postcode AS settlement_postcode, \
     i.status, i.etr, i.crew_id, c.status AS crew_status, i.reports, i.opened_at, i.last_report_at, i.updated_at, \
     (SELECT COUNT(*) FROM power_back_subscriptions p WHERE p.incident_id = i.id AND NOT EXISTS \
      (SELECT 1 FROM outbound_calls o WHERE o.subscription_id = p.id AND o.status NOT IN ('pending', 'dropped'))) \
     AS power_back_waiting \
     FROM incidents i JOIN settlements s ON s.id = i.settlement_id LEFT JOIN crews c ON c.id = i.crew_id";

fn settlement_ref(row: &AnyRow) -> StoreResult<SettlementRef> {
    Ok(SettlementRef {
        id: row.try_get("settlement_id")?,
        name: row.try_get("settlement_name")?,
        postcode: row.try_get("settlement_postcode")?,
    })
}

fn planned_from(row: &AnyRow) -> StoreResult<PlannedOutage> {
    let settlement = settlement_ref(row)?;
    Ok(PlannedOutage {
        id: row.try_get("id")?,
        postcode: settlement.postcode.clone(),
        settlement,
        starts_at: Timestamp(row.try_get("starts_at")?),
        ends_at: Timestamp(row.try_get("ends_at")?),
        streets: row.try_get("streets")?,
        reason: row.try_get("reason")?,
        demo: row.try_get::<i64, _>("demo")? != 0,
    })
}

fn incident_from(row: &AnyRow) -> StoreResult<Incident> {
    let status: String = row.try_get("status")?;
    Ok(Incident {
        id: row.try_get("id")?,
        settlement: settlement_ref(row)?,
        status: status.parse().map_err(StoreError::Invalid)?,
        etr: row.try_get::<Option<i64>, _>("etr")?.map(Timestamp),
        crew_id: row.try_get("crew_id")?,
        crew_status: row
            .try_get::<Option<String>, _>("crew_status")?
            .map(|s| s.parse())
            .transpose()
            .map_err(StoreError::Invalid)?,
        reports: row.try_get("reports")?,
        power_back_waiting: row.try_get("power_back_waiting")?,
        opened_at: Timestamp(row.try_get("opened_at")?),
        last_report_at: Timestamp(row.try_get("last_report_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

async fn incident_in<'e, E: sqlx::Executor<'e, Database = Any>>(conn: E, id: &str) -> StoreResult<Incident> {
    let sql = format!("{SELECT_INCIDENTS} WHERE i.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(incident_from).transpose()?.ok_or_else(|| StoreError::NotFound("incident".into()))
}

/// Joins an outage report to its settlement's open incident, if the last report came within
/// `window_s`; otherwise opens a new one. Returns the incident's id.
pub(super) async fn group_report_in(
    tx: &mut WriteTx,
    settlement_id: i64,
    window_s: i64,
    open_new: bool,
    now: Timestamp,
) -> StoreResult<Option<String>> {
    let current: Option<String> = sqlx::query_scalar(
        "SELECT id FROM incidents WHERE settlement_id = $1 AND status <> 'resolved' AND last_report_at >= $2 \
         ORDER BY last_report_at DESC LIMIT 1",
    )
    .bind(settlement_id)
    .bind(now.plus_seconds(-window_s).millis())
    .fetch_optional(&mut *tx)
    .await?;
    let id = match current {
        Some(id) => {
            sqlx::query(
                "UPDATE incidents SET reports = reports + 1, last_report_at = $1, updated_at = $1 WHERE id = $2",
            )
            .bind(now.millis())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            id
        }
        None if open_new => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO incidents (id, settlement_id, status, reports, opened_at, last_report_at, updated_at) \
                 VALUES ($1, $2, 'open', 1, $3, $3, $3)",
            )
            .bind(&id)
            .bind(settlement_id)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            events::publish(tx, now, "incident", "opened", &id, &serde_json::json!({"settlement_id": settlement_id}))
                .await?;
            id
        }
        None => return Ok(None),
    };
    Ok(Some(id))
}

/// The settlement's current incident (not resolved), newest first.
pub(super) async fn open_incident<'e, E: sqlx::Executor<'e, Database = Any>>(
    executor: E,
    settlement_id: i64,
) -> StoreResult<Option<Incident>> {
    let sql = format!(
        "{SELECT_INCIDENTS} WHERE i.settlement_id = $1 AND i.status <> 'resolved' ORDER BY i.last_report_at DESC LIMIT 1"
    );
    let row = sqlx::query(&sql).bind(settlement_id).fetch_optional(executor).await?;
    row.as_ref().map(incident_from).transpose()
}

/// Planned outages of a settlement that overlap `[from, to)`, earliest first.
pub(super) async fn planned_between<'e, E: sqlx::Executor<'e, Database = Any>>(
    executor: E,
    settlement_id: i64,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<PlannedOutage>> {
    let sql = format!(
        "{SELECT_PLANNED} WHERE p.settlement_id = $1 AND p.ends_at > $2 AND p.starts_at < $3 ORDER BY p.starts_at"
    );
    let rows = sqlx::query(&sql).bind(settlement_id).bind(from.millis()).bind(to.millis()).fetch_all(executor).await?;
    rows.iter().map(planned_from).collect()
}

/// The storm-mode switch and the open incidents in one statement: every call's menu reads them.
pub(super) async fn storm_inputs<'e, E: sqlx::Executor<'e, Database = Any>>(executor: E) -> StoreResult<StormInputs> {
    let row = sqlx::query(
        "SELECT (SELECT value FROM switches WHERE name = $1) AS manual, \
         (SELECT COUNT(*) FROM incidents WHERE status <> 'resolved') AS open_incidents",
    )
    .bind(STORM_SWITCH)
    .fetch_one(executor)
    .await?;
    Ok(StormInputs { manual: row.try_get("manual")?, open_incidents: row.try_get("open_incidents")? })
}

pub(super) async fn application<'e, E: sqlx::Executor<'e, Database = Any>>(
    executor: E,
    number: &str,
) -> StoreResult<Option<Application>> {
    let row =
        sqlx::query("SELECT number, applicant, status, updated_at FROM connection_applications WHERE number = $1")
            .bind(number)
            .fetch_optional(executor)
            .await?;
    row.map(|r| {
        Ok(Application {
            number: r.try_get("number")?,
            applicant: r.try_get("applicant")?,
            status: r.try_get("status")?,
            updated_at: Timestamp(r.try_get("updated_at")?),
        })
    })
    .transpose()
}

impl Store {
    /// Adds planned outages all together, or none.
    pub async fn add_planned_outages(&self, outages: &[NewPlannedOutage], now: Timestamp) -> StoreResult<Vec<String>> {
        self.write_with(outages.to_vec(), move |tx, outages| {
            Box::pin(async move {
                let mut ids = Vec::new();
                for outage in outages {
                    let id = new_id();
                    sqlx::query(
                        "INSERT INTO planned_outages (id, settlement_id, starts_at, ends_at, streets, reason, demo, \
                         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&id)
                    .bind(outage.settlement_id)
                    .bind(outage.starts_at.millis())
                    .bind(outage.ends_at.millis())
                    .bind(outage.streets.as_deref())
                    .bind(outage.reason.as_deref())
                    .bind(i64::from(outage.demo))
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            StoreError::Invalid(format!("settlement {} does not exist", outage.settlement_id))
                        }
                        _ => e.into(),
                    })?;
                    ids.push(id);
                }
                Ok(ids)
            })
        })
        .await
    }

    /// Planned outages overlapping `from..to`, of one settlement or one postcode if given,
    /// earliest first.
    pub async fn planned_outages(
        &self,
        settlement_id: Option<i64>,
        postcode: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<PlannedOutage>> {
        let sql = format!(
            "{SELECT_PLANNED} WHERE ($1 IS NULL OR p.settlement_id = $1) AND ($4 IS NULL OR s.postcode = $4) \
             AND p.ends_at > $2 AND p.starts_at < $3 ORDER BY p.starts_at LIMIT 1000"
        );
        let rows = sqlx::query(&sql)
            .bind(settlement_id)
            .bind(from.millis())
            .bind(to.millis())
            .bind(postcode)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(planned_from).collect()
    }

    pub async fn incidents(&self, status: Option<IncidentStatus>) -> StoreResult<Vec<Incident>> {
        let sql =
            format!("{SELECT_INCIDENTS} WHERE ($1 IS NULL OR i.status = $1) ORDER BY i.last_report_at DESC LIMIT 500");
        let rows = sqlx::query(&sql).bind(status.map(IncidentStatus::as_str)).fetch_all(&self.pool).await?;
        rows.iter().map(incident_from).collect()
    }

    pub async fn open_incident(&self, settlement_id: i64) -> StoreResult<Option<Incident>> {
        open_incident(&self.pool, settlement_id).await
    }

    /// A dispatcher's update: status and estimated restoration time (`None` clears it). Resolving
    /// it queues the calls its waiting callers asked for, in the same transaction.
    pub async fn update_incident(
        &self,
        id: &str,
        status: Option<IncidentStatus>,
        etr: Option<Option<Timestamp>>,
        actor: &str,
        now: Timestamp,
    ) -> StoreResult<Incident> {
        self.write_with((id.to_string(), actor.to_string()), move |tx, (id, actor)| {
            Box::pin(async move {
                let current = incident_in(&mut *tx, id).await?;
                let status = status.unwrap_or(current.status);
                let etr = etr.unwrap_or(current.etr);
                sqlx::query(
                    "UPDATE incidents SET status = $1, etr = $2, updated_at = $3, \
                     resolved_at = CASE WHEN $1 = 'resolved' THEN $3 ELSE NULL END WHERE id = $4",
                )
                .bind(status.as_str())
                .bind(etr.map(Timestamp::millis))
                .bind(now.millis())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if status == IncidentStatus::Resolved && current.status != IncidentStatus::Resolved {
                    let queued = power_back::queue_calls_in(tx, id, now).await?;
                    if queued > 0 {
                        tracing::info!(incident = %id, calls = queued, "power-back calls queued");
                    }
                }
                let payload = serde_json::json!({"status": status, "etr": etr, "by": actor});
                events::publish(tx, now, "incident", "updated", id, &payload).await?;
                incident_in(&mut *tx, id).await
            })
        })
        .await
    }

    pub async fn incident(&self, id: &str) -> StoreResult<Incident> {
        incident_in(&self.pool, id).await
    }

    /// Sends `crew_id` to an unresolved incident with the crew's job message; an open incident
    /// is now being worked on.
    pub async fn assign_crew_to_incident(
        &self,
        id: &str,
        crew_id: &str,
        actor: &str,
        job: impl Fn(&Crew) -> Vec<NewMessage> + Send + Sync + 'static,
        now: Timestamp,
    ) -> StoreResult<Incident> {
        let args = (id.to_string(), crew_id.to_string(), actor.to_string(), job);
        self.write_with(args, move |tx, (id, crew_id, actor, job)| {
            Box::pin(async move {
                let current = incident_in(&mut *tx, id).await?;
                if current.status == IncidentStatus::Resolved {
                    return Err(StoreError::Conflict("the incident is resolved".into()));
                }
                let crew = crews::dispatch_in(tx, crew_id, now).await?;
                sqlx::query("UPDATE incidents SET crew_id = $1, status = 'in_progress', updated_at = $2 WHERE id = $3")
                    .bind(crew_id)
                    .bind(now.millis())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                outbox::enqueue_in(tx, &job(&crew), now).await?;
                let payload = serde_json::json!({"crew_id": crew_id, "crew": crew.name, "by": actor});
                events::publish(tx, now, "incident", "crew_assigned", id, &payload).await?;
                incident_in(&mut *tx, id).await
            })
        })
        .await
    }

    pub async fn storm_inputs(&self) -> StoreResult<StormInputs> {
        storm_inputs(&self.pool).await
    }

    pub async fn set_switch(&self, name: &str, value: &str, actor: &str, now: Timestamp) -> StoreResult<()> {
        let args = (name.to_string(), value.to_string(), actor.to_string());
        self.write_with(args, move |tx, (name, value, actor)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO switches (name, value, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by, \
                     updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(value)
                .bind(actor)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
                let payload = serde_json::json!({"value": value, "by": actor});
                events::publish(tx, now, "switch", name, name, &payload).await
            })
        })
        .await
    }

    /// Adds or updates applications all together, or none.
    pub async fn upsert_applications(&self, applications: &[Application], demo: bool) -> StoreResult<usize> {
        self.write_with(applications.to_vec(), move |tx, applications| {
            Box::pin(async move {
                for a in applications {
                    sqlx::query(
                        "INSERT INTO connection_applications (number, applicant, status, updated_at, demo) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (number) DO UPDATE SET \
                         applicant = excluded.applicant, status = excluded.status, \
                         updated_at = excluded.updated_at, demo = excluded.demo",
                    )
                    .bind(&a.number)
                    .bind(&a.applicant)
                    .bind(&a.status)
                    .bind(a.updated_at.millis())
                    .bind(i64::from(demo))
                    .execute(&mut *tx)
                    .await?;
                }
                Ok(applications.len())
            })
        })
        .await
    }

    pub async fn application(&self, number: &str) -> StoreResult<Option<Application>> {
        application(&self.pool, number).await
    }

    /// True when the database holds nothing anyone entered: the only kind demo data may go into.
    pub async fn is_pristine(&self) -> StoreResult<bool> {
        let used: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM tickets) + (SELECT COUNT(*) FROM planned_outages) \
             + (SELECT COUNT(*) FROM connection_applications) + (SELECT COUNT(*) FROM calls)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(used == 0)
    }
}
