//! `GET /api/events`: committed domain events as server-sent events; a client reconnecting
//! with `Last-Event-ID` gets what it missed.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::stream;
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::app::AppState;
use crate::auth::http::bearer_from;
use crate::auth::{self, Role, Sessions};
use crate::error::{ApiError, ErrorBody};
use crate::store::DomainEvent;

/// Events sent to a reconnecting client at most; more than that and it should reload.
const REPLAY_LIMIT: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/events", get(events))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// Browsers' EventSource cannot send headers: the console passes its token here instead.
    token: Option<String>,
}

fn to_sse(event: &DomainEvent) -> Event {
    Event::default()
        .id(event.id.to_string())
        .event(event.topic.clone())
        .data(serde_json::to_string(event).unwrap_or_default())
}

#[utoipa::path(
    get,
    path = "/api/events",
    tag = "live",
    summary = "Server-sent events of every committed change (tickets, queue, escalations, incidents)",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event; missed events are sent first"),
    ),
    security(("bearer" = [])),
    responses(
        (
            status = 200,
            description = "A stream that lasts as long as the token's session (it ends within 5 s of its logout or expiry); each event's id is its sequence number, its type the topic, its data a DomainEvent as JSON",
            body = String,
            content_type = "text/event-stream"
        ),
        (status = 401, description = "No valid token, in the header or the query", body = ErrorBody),
        (status = 403, description = "The role may not watch events", body = ErrorBody),
    )
)]
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let token = bearer_from(&headers).or(query.token.as_deref()).map(str::to_owned);
    let sessions = Sessions::from_ref(&state);
    let user = auth::user_from_token(&sessions, token.as_deref()).await?;
    user.require_at_least(Role::Operator)?;
    // Subscribe before reading the backlog, so nothing falls between the two; ids dedupe.
    let receiver = state.live.sender.subscribe();
    let resume_from =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let backlog = match resume_from {
        Some(after) => state.store.events_after(after, REPLAY_LIMIT).await?,
        None => Vec::new(),
    };
    let mut last_sent = match backlog.last().map(|e| e.id).or(resume_from) {
        Some(id) => id,
        // A new client wants what happens from now on, not the log's history.
        None => state.store.last_event_id().await?,
    };
    let replay = stream::iter(backlog.into_iter().map(|e| Ok::<_, Infallible>(to_sse(&e))));
    let live = stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(event) => return Some((event, receiver)),
                // A slow client missed some: it can reconnect with Last-Event-ID to catch up.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let live = futures_util::StreamExt::filter_map(live, move |event| {
        let fresh = event.id > last_sent;
        if fresh {
            last_sent = event.id;
        }
        async move { fresh.then(|| Ok(to_sse(&event))) }
    });
    // The stream ends when the server shuts down, or within seconds of the token's logout or
    // expiry: a console left open must not go on receiving callers' numbers.
    let mut stopping = state.live.stopping.subscribe();
    let session_ended = auth::session_ended(sessions, token.unwrap_or_default());
    let stopped = async move {
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => {}
            () = session_ended => {}
        }
    };
    let stream = futures_util::StreamExt::take_until(futures_util::StreamExt::chain(replay, live), stopped);
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)));
    // An API response like any other (SPEC §6): not `no-cache`, as axum's default says, but `no-store`.
    Ok(([(CACHE_CONTROL, HeaderValue::from_static("no-store"))], sse))
}
