//! The error responses of the OpenAPI document in families, each worded once and named in an
//! operation's `responses(...)` beside what is particular to it (`responses((status = 200, ...),
//! OperatorPlusErrors, NotFound)`). A tuple listed after a family overrides its wording for one status.
//!
//! Documentation only: nothing constructs these types; the errors themselves are [`super::ApiError`].

use utoipa::IntoResponses;

use super::ErrorBody;

/// One family per role extractor of `crate::auth`: its 401 and the 403 its rule gives.
macro_rules! role_errors {
    ($($(#[$doc:meta])* $name:ident => $forbidden:tt;)+) => {$(
        $(#[$doc])*
        #[derive(IntoResponses)]
        pub enum $name {
            #[response(status = 401, description = "No valid bearer token")]
            Unauthenticated(ErrorBody<'static>),
            #[response(status = 403, description = $forbidden)]
            Forbidden(ErrorBody<'static>),
        }
    )+};
}

role_errors! {
    /// Behind `OperatorPlus`.
    OperatorPlusErrors => "Operators and the roles above them only";
    /// Behind `DispatcherPlus`.
    DispatcherPlusErrors => "Dispatchers, supervisors and admins only";
    /// Behind `SupervisorPlus`.
    SupervisorPlusErrors => "Supervisors and admins only";
    /// Behind `OperatorOnly`.
    OperatorOnlyErrors => "Operators (and admins) only";
    /// Behind `DispatcherOnly`.
    DispatcherOnlyErrors => "Dispatchers (and admins) only";
    /// Behind `AdminOnly`.
    AdminOnlyErrors => "Admins only";
}

/// Behind a login of any role.
#[derive(IntoResponses)]
#[response(status = 401, description = "No valid bearer token")]
pub struct Unauthenticated(pub ErrorBody<'static>);

/// Something the request names (in its path or body) does not exist.
#[derive(IntoResponses)]
#[response(status = 404, description = "Something the request names does not exist")]
pub struct NotFound(pub ErrorBody<'static>);

/// The refusals of a CSV import (`crate::csv_import`): all or nothing.
#[derive(IntoResponses)]
pub enum CsvImportErrors {
    #[response(status = 400, description = "The file is not UTF-8 text")]
    NotText(ErrorBody<'static>),
    #[response(status = 413, description = "The file is larger than the import limit")]
    TooLarge(ErrorBody<'static>),
    #[response(status = 422, description = "Bad rows, each with its line; nothing was stored")]
    BadRows(ErrorBody<'static>),
}

/// The refusals of a telephony provider's webhook, before a call step runs.
#[derive(IntoResponses)]
pub enum WebhookErrors {
    #[response(status = 400, description = "The webhook lacks what a call step needs")]
    Incomplete(ErrorBody<'static>),
    #[response(status = 403, description = "The signature does not hold")]
    Unsigned(ErrorBody<'static>),
    #[response(status = 413, description = "The body is larger than the limit")]
    TooLarge(ErrorBody<'static>),
}

/// The pages an acknowledgement link from an escalation e-mail answers with when it cannot act.
#[derive(IntoResponses)]
pub enum AckLinkRefusals {
    #[response(status = 404, description = "Not a valid link", content_type = "text/html")]
    Invalid(String),
    #[response(
        status = 410,
        description = "Expired, or already used: the page says which and by whom",
        content_type = "text/html"
    )]
    Gone(String),
}
