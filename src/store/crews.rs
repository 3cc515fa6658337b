//! Field crews and their status.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, WriteTx, events, new_id};
use crate::clock::Timestamp;
use crate::crews::{Crew, CrewChange, CrewStatus};

const SELECT_CREWS: &str = "SELECT id, name, phone, email, status, created_at, updated_at FROM crews";

fn crew_from(row: &AnyRow) -> StoreResult<Crew> {
    let status: String = row.try_get("status")?;
    Ok(Crew {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        status: status.parse().map_err(StoreError::Invalid)?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

pub(super) async fn crew_in(tx: &mut WriteTx, id: &str) -> StoreResult<Crew> {
    let sql = format!("{SELECT_CREWS} WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
    row.as_ref().map(crew_from).transpose()?.ok_or_else(|| StoreError::NotFound("crew".into()))
}

/// Sends `crew` to a job: refused while off duty; an available crew is now on its way.
pub(super) async fn dispatch_in(tx: &mut WriteTx, crew_id: &str, now: Timestamp) -> StoreResult<Crew> {
    let crew = crew_in(tx, crew_id).await?;
    if crew.status == CrewStatus::OffDuty {
        return Err(StoreError::Conflict(format!("crew '{}' is off duty", crew.name)));
    }
    if crew.status == CrewStatus::Available {
        let change = CrewChange { status: Some(CrewStatus::EnRoute), ..CrewChange::default() };
        return update_in(tx, crew_id, &change, now).await;
    }
    Ok(crew)
}

async fn update_in(tx: &mut WriteTx, id: &str, change: &CrewChange, now: Timestamp) -> StoreResult<Crew> {
    let current = crew_in(tx, id).await?;
    sqlx::query("UPDATE crews SET name = $1, phone = $2, email = $3, status = $4, updated_at = $5 WHERE id = $6")
        .bind(change.name.as_ref().unwrap_or(&current.name))
        .bind(change.phone.clone().unwrap_or(current.phone))
        .bind(change.email.clone().unwrap_or(current.email))
        .bind(change.status.unwrap_or(current.status).as_str())
        .bind(now.millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let updated = crew_in(tx, id).await?;
    events::publish(tx, now, "crew", "updated", id, &serde_json::to_value(&updated).unwrap_or_default()).await?;
    Ok(updated)
}

impl Store {
    pub async fn crews(&self) -> StoreResult<Vec<Crew>> {
        let sql = format!("{SELECT_CREWS} ORDER BY name, id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(crew_from).collect()
    }

    pub async fn crew(&self, id: &str) -> StoreResult<Option<Crew>> {
        let sql = format!("{SELECT_CREWS} WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(crew_from).transpose()
    }

    pub async fn create_crew(
        &self,
        name: &str,
        phone: Option<&str>,
        email: Option<&str>,
        status: CrewStatus,
        now: Timestamp,
    ) -> StoreResult<Crew> {
        let args = (name.to_string(), phone.map(str::to_string), email.map(str::to_string));
        self.write_with(args, move |tx, (name, phone, email)| {
            Box::pin(async move {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO crews (id, name, phone, email, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(&id)
                .bind(name)
                .bind(phone)
                .bind(email)
                .bind(status.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
                let crew = crew_in(tx, &id).await?;
                let payload = serde_json::to_value(&crew).unwrap_or_default();
                events::publish(tx, now, "crew", "created", &id, &payload).await?;
                Ok(crew)
            })
        })
        .await
    }

    pub async fn update_crew(&self, id: &str, change: &CrewChange, now: Timestamp) -> StoreResult<Crew> {
        self.write_with((id.to_string(), change.clone()), move |tx, (id, change)| {
            Box::pin(update_in(tx, id, change, now))
        })
        .await
    }
}
