//! The OpenAPI document of the HTTP API, generated from the handlers' annotations and served at `GET /api/openapi.json`.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::telephony::http::WebhookPaths;

/// Every endpoint of the app. A route added without an entry here makes the `openapi` test of
/// the integration suite fail.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hotline API",
        description = "The backend of a grid company's 24/7 hotline: tickets, the operator queue, outages, \
                       the internet reception and the telephony webhooks. Errors are `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        crate::app::healthz,
        crate::app::readyz,
        openapi_json,
        crate::auth::http::login,
        crate::auth::http::logout,
        crate::auth::http::me,
        crate::tickets::http::list,
        crate::tickets::http::create,
        crate::tickets::http::show,
        crate::tickets::http::add_note,
        crate::tickets::http::transition,
        crate::calls::http::show,
        crate::settlements::http::find,
        crate::settlements::http::import,
        crate::queue::http::list,
        crate::queue::http::next,
        crate::queue::http::abandoned,
        crate::queue::http::release,
        crate::queue::http::complete,
        crate::queue::http::me,
        crate::queue::http::update_me,
        crate::queue::http::heartbeat,
        crate::escalation::http::list,
        crate::escalation::http::detail,
        crate::escalation::http::acknowledge,
        crate::escalation::http::assign,
        crate::escalation::http::resolve,
        crate::escalation::ack_page::confirm_page,
        crate::escalation::ack_page::acknowledge,
        crate::crews::http::list,
        crate::crews::http::create,
        crate::crews::http::update,
        crate::live::http::events,
        crate::metrics::http::json,
        crate::metrics::http::prometheus,
        crate::outages::http::list_planned,
        crate::outages::http::add_planned,
        crate::outages::http::import_planned,
        crate::outages::http::list_incidents,
        crate::outages::http::update_incident,
        crate::outages::http::assign_crew,
        crate::outages::http::storm_mode,
        crate::outages::http::set_storm_mode,
        crate::connection::http::import,
        crate::connection::http::show,
        crate::lifecycle::http::erase,
        crate::reception::http::outages,
        crate::reception::http::faq,
        crate::reception::http::appeal,
        crate::reception::http::offices,
        crate::reception::http::status,
        crate::reception::pages::to_front_page,
        crate::reception::pages::home,
        crate::reception::pages::report_page,
        crate::reception::pages::report,
        crate::reception::pages::status,
        crate::reception::pages::style,
        crate::reception::pages::connection_page,
        crate::reception::pages::application_status_page,
        crate::reception::pages::sample_page,
        crate::console::page,
        crate::console::asset,
    ),
    // Schemas used in request and response bodies are collected from the paths; these are the
    // ones no body of a path names: the server-sent events carry a DomainEvent as text, and the
    // shared error responses (`error::responses`, `ExtractorRefusals`) refer to ErrorBody.
    components(schemas(crate::store::DomainEvent, ErrorBody)),
    modifiers(&WebhookPaths, &BearerAuth, &ExtractorRefusals),
    tags(
        (name = "health", description = "Liveness and readiness for the orchestrator"),
        (name = "meta", description = "This document"),
        (name = "auth", description = "Login, logout, the current user"),
        (name = "tickets", description = "Tickets, their notes and lifecycle"),
        (name = "calls", description = "Calls and the path their callers took through the IVR"),
        (name = "queue", description = "The operator queue"),
        (name = "operators", description = "An operator's own status and lease"),
        (name = "live", description = "Server-sent events of committed changes"),
        (name = "escalations", description = "Emergencies escalated to dispatchers, and the links in their e-mails"),
        (name = "crews", description = "Field crews and their status"),
        (name = "metrics", description = "Supervisor figures, as JSON and for Prometheus"),
        (name = "outages", description = "Planned outages, incidents and storm mode"),
        (name = "settlements", description = "Reference data: the region's settlements and postcodes"),
        (name = "connection", description = "Technological-connection applications"),
        (name = "privacy", description = "Erasure of a caller's personal data on request"),
        (name = "reception", description = "The internet reception: public, no login"),
        (name = "console", description = "The web console's page and scripts"),
        (name = "telephony", description = "Webhooks of the telephony providers (Twilio, jambonz)"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the operations' `security(("bearer" = []))` refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The token from POST /api/auth/login"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The refusals the shared extractors give before a handler runs, documented here once for every
/// operation that uses them instead of on each: a JSON body of the API (`ApiJson`) is refused with 400
/// (malformed), 413 (over the limit), 415 (not JSON) or 422 (does not fit); a path or query
/// parameter (`Path`, `ApiQuery`) that does not parse with 400. An operation that describes one
/// of these itself (a 422 saying which rule) keeps its own words.
struct ExtractorRefusals;

impl ExtractorRefusals {
    const JSON_BODY: &[(&str, &str)] = &[
        ("400", "The body is not valid JSON"),
        ("413", "The body is larger than the limit (64 KiB)"),
        ("415", "The body is not application/json"),
        ("422", "The JSON does not fit the request: a field is missing, of the wrong type or too long"),
    ];
    const PARAMETERS: &[(&str, &str)] = &[("400", "A path or query parameter does not parse")];
}

impl Modify for ExtractorRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The API's handlers read JSON with `ApiJson`; the webhooks parse their bodies themselves.
            let api = path.starts_with("/api/");
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let json_body = api
                    && operation
                        .request_body
                        .as_ref()
                        .is_some_and(|body| body.content.contains_key("application/json"));
                let parameters = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
                let refusals = json_body
                    .then_some(Self::JSON_BODY)
                    .into_iter()
                    .chain(parameters.then_some(Self::PARAMETERS))
                    .flatten();
                for (status, description) in refusals {
                    operation.responses.responses.entry(status.to_string()).or_insert_with(|| {
                        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
                        ResponseBuilder::new()
                            .description(*description)
                            .content("application/json", content)
                            .build()
                            .into()
                    });
                }
            }
        }
    }
}

/// Rendered once: the document only changes with the code.
static DOCUMENT: LazyLock<Result<String, String>> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().map_err(|e| e.to_string()));

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi_json))
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    summary = "This OpenAPI document",
    responses(
        (status = 200, description = "The OpenAPI document", body = serde_json::Value),
        (status = 500, description = "The document could not be rendered", body = ErrorBody),
    )
)]
async fn openapi_json() -> Result<impl IntoResponse, ApiError> {
    match &*DOCUMENT {
        Ok(json) => Ok(([(CONTENT_TYPE, "application/json")], json.as_str())),
        Err(e) => Err(ApiError::Internal(anyhow::anyhow!("rendering the OpenAPI document failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::Value;

    use super::*;

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document serializes")
    }

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", Value::String(target)) => out.push(target),
                        _ => refs(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|inner| refs(inner, out)),
            _ => {}
        }
    }

    /// A `$ref` to a schema that was never registered makes the document useless to a client
    /// generator, and utoipa does not check it.
    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty(), "the document should reference schemas");
        for target in found {
            let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("odd $ref {target}"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "$ref {target} points at no schema");
        }
    }

    /// Clients name their functions after operation ids, so two handlers called `list` in
    /// different modules must not both be `list`.
    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = HashSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no id"));
                assert!(seen.insert(id.to_string()), "operation id {id} is used twice ({method} {path})");
            }
        }
    }

    #[test]
    fn lists_the_bearer_scheme_the_operations_use() {
        let doc = document();
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        assert_eq!(doc["info"]["title"], "Hotline API");
    }
}
