//! Field crews: who can be sent to a hazard or an outage, and where they are now.

pub mod http;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::text_enum::text_enum;

text_enum! {
    pub enum CrewStatus {
        Available = "available",
        EnRoute = "en_route",
        OnSite = "on_site",
        OffDuty = "off_duty",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Crew {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    /// Where the job is e-mailed when the crew is assigned.
    pub email: Option<String>,
    pub status: CrewStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A change to a crew; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct CrewChange {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub status: Option<CrewStatus>,
}
