//! The pages behind the acknowledgement links in e-mails. A GET shows a page and changes
//! nothing (mail scanners open links); only the page's POST acknowledges.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::ack_link::{Claims, LinkError};
use super::{Escalation, EscalationState};
use crate::app::AppState;
use crate::error::ApiError;
use crate::error::responses::AckLinkRefusals;
use crate::escalation::mail::local_time;
use crate::store::StoreError;

pub fn router() -> Router<AppState> {
    Router::new().route("/ack/{token}", get(confirm_page).post(acknowledge))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font:18px/1.5 system-ui,sans-serif;max-width:36em;margin:2em auto;padding:0 1em}}\
         button{{font-size:1.2em;padding:.6em 1.4em;background:#b00020;color:#fff;border:0;border-radius:6px}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    (status, Html(html)).into_response()
}

/// Why the link does nothing, as a page.
fn refused(state: &AppState, escalation: Option<&Escalation>, error: Option<LinkError>) -> Response {
    let tz = &state.settings.timezone;
    match (error, escalation) {
        (Some(LinkError::Forged), _) | (None, None) => page(
            StatusCode::NOT_FOUND,
            "Ссылка недействительна",
            "<p>Проверьте, что ссылка скопирована из письма полностью, или подтвердите аварию в консоли.</p>",
        ),
        (Some(LinkError::Expired), _) => page(
            StatusCode::GONE,
            "Срок действия ссылки истёк",
            "<p>Подтвердите аварию в консоли диспетчера или позвоните в ЦУС.</p>",
        ),
        (None, Some(e)) => {
            let by = match (&e.acknowledged_by, e.acknowledged_at) {
                (Some(by), Some(at)) => format!("<p>Подтвердил: {} в {}.</p>", escape(by), local_time(at, tz)),
                _ => String::new(),
            };
            let title = if e.state == EscalationState::Resolved {
                "Авария уже закрыта"
            } else {
                "Авария уже подтверждена"
            };
            page(StatusCode::GONE, title, &format!("<p>Заявка №{}. Ссылка уже использована.</p>{by}", e.ticket_number))
        }
    }
}

async fn escalation_for(state: &AppState, token: &str) -> Result<(Claims, Escalation), Response> {
    let claims = state.ack_links.check(token, state.clock.now()).map_err(|e| refused(state, None, Some(e)))?;
    match state.store.escalation(&claims.e).await {
        Ok(Some(escalation)) => Ok((claims, escalation)),
        Ok(None) => Err(refused(state, None, None)),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// The page behind the link: what the emergency is, and a button. Changes nothing.
#[utoipa::path(
    get,
    path = "/ack/{token}",
    operation_id = "ack_link_page",
    tag = "escalations",
    summary = "The acknowledgement page behind an e-mail's link (changes nothing)",
    params(("token" = String, Path, description = "The signed token from the e-mail")),
    responses(
        (status = 200, description = "What the emergency is, and the button that acknowledges it", content_type = "text/html", body = String),
        AckLinkRefusals,
    )
)]
pub(crate) async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (_, escalation) = match escalation_for(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if escalation.state != EscalationState::Active {
        return refused(&state, Some(&escalation), None);
    }
    let ticket = match state.store.ticket(&crate::tickets::TicketKey::Id(escalation.ticket_id.clone())).await {
        Ok(Some(ticket)) => ticket,
        Ok(None) => return refused(&state, None, None),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let place = match &ticket.settlement {
        Some(s) => format!(", {}", escape(&s.name)),
        None => ", населённый пункт не определён".to_string(),
    };
    let address = ticket.address.as_deref().map_or(String::new(), |a| format!(", {}", escape(a)));
    // The caller's own words for the place, recorded after the e-mail went out: shown here,
    // read fresh, so the link in the e-mail leads to them.
    let recording = ticket
        .recording_url
        .as_deref()
        .and_then(crate::telephony::recording_url)
        .map_or(String::new(), |url| format!("<p><a href=\"{0}\">Запись звонящего</a></p>", escape(url)));
    page(
        StatusCode::OK,
        "Подтвердить аварию",
        &format!(
            "<p><b>Заявка №{}</b>: {}{place}{address}.</p><p>{}</p>{recording}\
             <form method=\"post\"><button type=\"submit\">Принял, беру в работу</button></form>\
             <p>После подтверждения следующие оповещения не отправляются.</p>",
            ticket.number,
            escape(ticket.category.label()),
            escape(&ticket.description)
        ),
    )
}

/// The page's button: acknowledges as the person the link was sent to.
#[utoipa::path(
    post,
    path = "/ack/{token}",
    operation_id = "ack_link_acknowledge",
    tag = "escalations",
    summary = "Acknowledge from the e-mail's link: no further steps fire",
    params(("token" = String, Path, description = "The signed token from the e-mail")),
    responses(
        (status = 200, description = "Acknowledged", content_type = "text/html", body = String),
        AckLinkRefusals,
    )
)]
pub(crate) async fn acknowledge(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let (claims, escalation) = match escalation_for(&state, &token).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match state.store.acknowledge_escalation(&escalation.id, &claims.r, state.clock.now()).await {
        Ok(acked) => {
            tracing::info!(escalation = %acked.id, by = %claims.r, "escalation acknowledged from an e-mail link");
            page(
                StatusCode::OK,
                "Авария подтверждена",
                &format!("<p>Заявка №{}. Спасибо: следующие оповещения остановлены.</p>", acked.ticket_number),
            )
        }
        Err(StoreError::Conflict(_)) => match state.store.escalation(&escalation.id).await {
            Ok(now) => refused(&state, now.as_ref(), None),
            Err(e) => ApiError::from(e).into_response(),
        },
        Err(e) => ApiError::from(e).into_response(),
    }
}
