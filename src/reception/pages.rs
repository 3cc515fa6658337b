//! The internet reception as pages at `/reception/`: server-rendered Russian HTML that works
//! without JavaScript, with its style sheet built into the binary. Every visitor's word is
//! escaped; forms that fail show what to fix next to the field and change nothing.

use std::fmt::Write;

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::content::{Article, Sample};
use super::{
    ApplicationLookup, FieldError, RawReport, ReceptionContext, Report, ReportKind, SettlementOutages, StatusLookup,
    appeal_status, application_lookups_throttled, application_number, application_status, lookups_throttled,
    outages_for, phone_last4, refusal_text, settlement_query, submit,
};
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::clock::Timestamp;
use crate::error::ErrorBody;
use crate::store::WebSubmission;
use crate::tickets::TicketNumber;

const STYLE: &str = include_str!("reception.css");

/// The pages' own style sheet and forms only: no script, nothing from elsewhere, no framing.
const POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; \
                      frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reception", get(to_front_page))
        .route("/reception/", get(home))
        .route("/reception/report", get(report_page).post(report))
        .route("/reception/status", get(status))
        .route("/reception/connection", get(connection_page))
        .route("/reception/connection/status", get(application_status_page))
        .route("/reception/connection/samples/{slug}", get(sample_page))
        .route("/reception/reception.css", get(style))
}

/// `text` made safe to put in HTML text and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(status: StatusCode, body: String) -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
    ];
    (status, headers, body).into_response()
}

#[utoipa::path(
    get,
    path = "/reception",
    tag = "reception",
    summary = "To the reception's front page",
    responses((status = 308, description = "Redirect to /reception/"))
)]
async fn to_front_page() -> Redirect {
    Redirect::permanent("/reception/")
}

/// The page for an address whose query part does not parse (a hand-edited link).
fn unreadable_address() -> Response {
    let main = "<h1>Адрес страницы не прочитан</h1><p>Откройте <a href=\"/reception/\">интернет-приёмную</a> и повторите поиск.</p>";
    html(StatusCode::BAD_REQUEST, layout("Адрес страницы не прочитан", main))
}

#[utoipa::path(
    get,
    path = "/reception/reception.css",
    tag = "reception",
    summary = "The reception pages' style sheet",
    responses((status = 200, description = "CSS", body = String, content_type = "text/css"))
)]
async fn style() -> Response {
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
        (axum::http::header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    (headers, STYLE).into_response()
}

/// The sections, most important first, as the menu lists them: short words, so that on a
/// phone the menu takes a few lines above the page and not the whole first screen.
const SECTIONS: &[(&str, &str)] = &[
    ("outages", "Отключения"),
    ("report", "Сообщить о проблеме"),
    ("status", "Статус обращения"),
    ("faq", "Вопросы"),
    ("connection", "Присоединение"),
    ("offices", "Центры обслуживания"),
    ("theft", "Хищения"),
    ("territory", "Территория"),
    ("regulations", "Документы"),
];

/// A whole page: the header with the hotline's number, the menu, `main`, the footer.
fn layout(title: &str, main: &str) -> String {
    let mut nav = String::new();
    for (id, label) in SECTIONS {
        let _ = write!(nav, r#"<li><a href="/reception/#{id}">{label}</a></li>"#);
    }
    format!(
        r##"<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — интернет-приёмная «Ярэнерго»</title>
<link rel="stylesheet" href="/reception/reception.css">
</head>
<body>
<a class="skip" href="#main">К основному содержанию</a>
<header class="top">
<p class="brand"><a href="/reception/">«Ярэнерго»: интернет-приёмная</a></p>
<p class="hotline">Горячая линия, бесплатно и круглосуточно: <a href="tel:+78005050115">8-800-50-50-115</a>. Угроза жизни — <a href="tel:112">112</a></p>
</header>
<nav aria-label="Разделы"><ul>{nav}</ul></nav>
<main id="main" tabindex="-1">
{main}
</main>
<footer><p>Филиал ПАО «Россети Центр» — «Ярэнерго». Ярославская область. Горячая линия <a href="tel:+78005050115">8-800-50-50-115</a>.</p></footer>
</body>
</html>
"##,
        title = escape(title)
    )
}

fn local(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    crate::escalation::mail::local_time(t, tz)
}

/// A section of prose whose heading is of `level` (1 on a page of its own, 2 on the front
/// page), its parts a level below; `extra` goes at its end, before the links.
fn article(id: &str, article: &Article, level: u8, extra: &str) -> String {
    let sub = level + 1;
    let mut out = format!(
        r#"<section id="{id}" aria-labelledby="{id}-h"><h{level} id="{id}-h">{}</h{level}><p class="lead">{}</p>"#,
        escape(&article.title),
        escape(&article.lead)
    );
    for part in &article.parts {
        let _ = write!(out, "<h{sub}>{}</h{sub}>", escape(&part.heading));
        for paragraph in &part.paragraphs {
            let _ = write!(out, "<p>{}</p>", escape(paragraph));
        }
        if !part.items.is_empty() {
            out.push_str("<ul>");
            for item in &part.items {
                let _ = write!(out, "<li>{}</li>", escape(item));
            }
            out.push_str("</ul>");
        }
    }
    out.push_str(extra);
    if !article.links.is_empty() {
        out.push_str(r#"<ul class="links">"#);
        for link in &article.links {
            let _ = write!(out, r#"<li><a href="{}" rel="noopener">{}</a>"#, escape(&link.url), escape(&link.title));
            if let Some(note) = &link.note {
                let _ = write!(out, "<br><span class=\"note\">{}</span>", escape(note));
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    out
}

/// A text field with its label, its value kept and its error, if any, tied to it.
fn field(name: &str, label: &str, value: &str, errors: &[FieldError], attrs: &str, hint: Option<&str>) -> String {
    field_with_id(name, name, label, value, errors, attrs, hint)
}

/// [`field`] for a parameter whose name another form on the same page uses too: the element's
/// `id` (which its errors name) differs from the `name` it is sent as.
fn field_with_id(
    id: &str,
    name: &str,
    label: &str,
    value: &str,
    errors: &[FieldError],
    attrs: &str,
    hint: Option<&str>,
) -> String {
    let error = errors.iter().find(|e| e.field == id);
    let mut described = Vec::new();
    let mut extra = String::new();
    if let Some(hint) = hint {
        described.push(format!("{id}-hint"));
        let _ = write!(extra, r#"<p class="hint" id="{id}-hint">{}</p>"#, escape(hint));
    }
    if let Some(error) = error {
        described.push(format!("{id}-error"));
        let _ = write!(extra, r#"<p class="error" id="{id}-error">{}</p>"#, escape(&error.message));
    }
    let aria = match (described.is_empty(), error.is_some()) {
        (true, _) => String::new(),
        (false, invalid) => {
            format!(
                r#" aria-describedby="{}"{}"#,
                described.join(" "),
                if invalid { r#" aria-invalid="true""# } else { "" }
            )
        }
    };
    let control = if attrs == "textarea" {
        format!(
            r#"<textarea id="{id}" name="{name}" rows="5" maxlength="4000" required{aria}>{}</textarea>"#,
            escape(value)
        )
    } else {
        format!(r#"<input id="{id}" name="{name}" value="{}" {attrs}{aria}>"#, escape(value))
    };
    format!(r#"<div class="field"><label for="{id}">{label}</label>{extra}{control}</div>"#)
}

/// The summary above a failed form: what to fix, each a link to its field.
fn error_summary(errors: &[FieldError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        r#"<div class="summary" role="alert" tabindex="-1"><p><strong>Проверьте форму — ничего не отправлено:</strong></p><ul>"#,
    );
    for error in errors {
        let _ = write!(out, r##"<li><a href="#{}">{}</a></li>"##, error.field, escape(&error.message));
    }
    out.push_str("</ul></div>");
    out
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct ReportFields {
    /// `hazard`, `no_power`, `theft`, `question` or `appeal`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
    place: Option<String>,
    address: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

/// The report form, with what was typed and what is wrong with it.
fn report_form(fields: &ReportFields, errors: &[FieldError]) -> String {
    let mut kinds = String::new();
    for kind in [ReportKind::Hazard, ReportKind::NoPower, ReportKind::Theft, ReportKind::Question, ReportKind::Appeal] {
        let checked = if fields.kind == kind.as_str() { " checked" } else { "" };
        let _ = write!(
            kinds,
            r#"<div class="choice"><input type="radio" id="kind-{k}" name="kind" value="{k}"{checked}><label for="kind-{k}">{}</label></div>"#,
            kind.label(),
            k = kind.as_str()
        );
    }
    let kind_error = errors
        .iter()
        .find(|e| e.field == "kind")
        .map(|e| format!(r#"<p class="error" id="kind-error">{}</p>"#, escape(&e.message)))
        .unwrap_or_default();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        r#"{summary}<form method="post" action="/reception/report" novalidate>
<fieldset id="kind"><legend>О чём вы сообщаете</legend>{kind_error}{kinds}</fieldset>
{text}{place}{address}
<fieldset><legend>Как с вами связаться (необязательно)</legend>
<p class="hint">Оставьте телефон, чтобы узнать ответ: статус проверяется по номеру обращения и последним четырём цифрам телефона. О хищении можно сообщить анонимно.</p>
{name}{phone}{email}
</fieldset>
<button type="submit">Отправить</button>
</form>"#,
        summary = error_summary(errors),
        text = field("text", "Что случилось", &fields.text, errors, "textarea", None),
        place = field(
            "place",
            "Населённый пункт или почтовый индекс",
            &value(&fields.place),
            errors,
            r#"type="text" maxlength="100" autocomplete="address-level2""#,
            None
        ),
        address = field(
            "address",
            "Улица, дом или ориентир",
            &value(&fields.address),
            errors,
            r#"type="text" maxlength="500" autocomplete="street-address""#,
            None
        ),
        name = field(
            "name",
            "Имя",
            &value(&fields.name),
            errors,
            r#"type="text" maxlength="200" autocomplete="name""#,
            None
        ),
        phone = field(
            "phone",
            "Телефон",
            &value(&fields.phone),
            errors,
            r#"type="tel" maxlength="50" autocomplete="tel""#,
            Some("Например: +7 910 123-45-67")
        ),
        email = field(
            "email",
            "Электронная почта",
            &value(&fields.email),
            errors,
            r#"type="email" maxlength="200" autocomplete="email""#,
            None
        ),
    )
}

/// The hazard advice and the form, as the report section and the report page show them, under
/// a heading of `level` (1 on the report page, 2 on the front page) and the advice's one below.
fn report_section(ctx: &ReceptionContext, fields: &ReportFields, errors: &[FieldError], level: u8) -> String {
    let sub = level + 1;
    let hazard = &ctx.content.hazard;
    let mut advice = String::new();
    for part in &hazard.parts {
        let _ = write!(advice, "<h{sub}>{}</h{sub}><ul>", escape(&part.heading));
        for item in &part.items {
            let _ = write!(advice, "<li>{}</li>", escape(item));
        }
        advice.push_str("</ul>");
    }
    format!(
        r#"<h{level} id="report-h">Сообщить о проблеме</h{level}><div class="danger" role="note" aria-labelledby="hazard-h"><h{sub} id="hazard-h">{title}</h{sub}><p>{lead}</p>{advice}</div>
<p>Сообщение об опасности сразу получает высший приоритет и передаётся дежурному диспетчеру. Ответ — номер обращения.</p>
{form}"#,
        title = escape(&hazard.title),
        lead = escape(&hazard.lead),
        form = report_form(fields, errors)
    )
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StatusFields {
    /// The ticket number the author was given.
    number: Option<String>,
    phone_last4: Option<String>,
}

fn status_form(fields: &StatusFields, errors: &[FieldError]) -> String {
    format!(
        r#"{summary}<form method="get" action="/reception/status" novalidate>{number}{last4}<button type="submit">Узнать статус</button></form>"#,
        summary = error_summary(errors),
        number = field(
            "number",
            "Номер обращения",
            fields.number.as_deref().unwrap_or_default(),
            errors,
            r#"type="text" inputmode="numeric" maxlength="18""#,
            None
        ),
        last4 = field(
            "phone_last4",
            "Последние четыре цифры телефона",
            fields.phone_last4.as_deref().unwrap_or_default(),
            errors,
            r#"type="text" inputmode="numeric" maxlength="4" autocomplete="off""#,
            Some("Того телефона, который вы указали в обращении")
        ),
    )
}

fn outage_results(ctx: &ReceptionContext, q: &str, found: &[SettlementOutages]) -> String {
    if found.is_empty() {
        return format!(
            r#"<p role="status">Населённый пункт «{}» не найден. Проверьте написание или введите почтовый индекс.</p>"#,
            escape(q)
        );
    }
    let mut out = format!(r#"<div role="status"><p>Найдено населённых пунктов: {}.</p></div>"#, found.len());
    for entry in found {
        let s = &entry.settlement;
        let _ = write!(
            out,
            r#"<article class="place"><h3>{} <span class="note">({}, {}, {})</span></h3>"#,
            escape(&s.name),
            escape(&s.kind),
            escape(&s.district),
            escape(&s.postcode)
        );
        match &entry.incident {
            Some(incident) => {
                let etr = incident.etr.map(|t| format!("ориентировочно {}", local(t, &ctx.timezone)));
                let _ = write!(
                    out,
                    r#"<p class="incident"><strong>Аварийное отключение.</strong> Бригады работают. Восстановление: {}.</p>"#,
                    escape(&etr.unwrap_or_else(|| "время уточняется".into()))
                );
            }
            None => out.push_str("<p>Аварийных отключений сейчас нет.</p>"),
        }
        if entry.planned.is_empty() {
            out.push_str("<p>Плановых отключений в ближайшие две недели нет.</p>");
        } else {
            out.push_str(
                r#"<table><caption>Плановые отключения на две недели</caption><thead><tr><th scope="col">Начало</th><th scope="col">Окончание</th><th scope="col">Улицы</th><th scope="col">Причина</th></tr></thead><tbody>"#,
            );
            for planned in &entry.planned {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    local(planned.starts_at, &ctx.timezone),
                    local(planned.ends_at, &ctx.timezone),
                    escape(planned.streets.as_deref().unwrap_or("весь населённый пункт")),
                    escape(planned.reason.as_deref().unwrap_or("плановые работы"))
                );
            }
            out.push_str("</tbody></table>");
        }
        out.push_str("</article>");
    }
    out
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct HomeQuery {
    /// A settlement's name or postcode to show the outages of.
    q: Option<String>,
}

#[utoipa::path(
    get,
    path = "/reception/",
    tag = "reception",
    summary = "The internet reception (HTML, Russian): every section, outages first",
    params(HomeQuery),
    responses(
        (status = 200, description = "The page, with the search's results when `q` is given", body = String, content_type = "text/html"),
        (status = 400, description = "The query does not parse", body = String, content_type = "text/html"),
        (status = 422, description = "`q` is neither a name nor a postcode: the page says why next to the field", body = String, content_type = "text/html"),
    )
)]
async fn home(State(ctx): State<ReceptionContext>, query: Result<Query<HomeQuery>, QueryRejection>) -> Response {
    let Ok(Query(query)) = query else { return unreadable_address() };
    let q = query.q.unwrap_or_default();
    let mut errors = Vec::new();
    let mut results = String::new();
    if !q.trim().is_empty() {
        match settlement_query(&q) {
            Ok(query) => match outages_for(&ctx.store, &query, ctx.clock.now()).await {
                Ok(found) => results = outage_results(&ctx, q.trim(), &found),
                Err(e) => return unavailable(e),
            },
            Err(message) => errors.push(FieldError { field: "q", message }),
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let search = field(
        "q",
        "Населённый пункт или почтовый индекс",
        &q,
        &errors,
        r#"type="search" maxlength="100" autocomplete="address-level2""#,
        Some("Например: Углич или 152610"),
    );
    let mut main = format!(
        r#"<h1>Интернет-приёмная «Ярэнерго»</h1>
<p class="lead">Здесь можно узнать об отключениях, сообщить об аварии или опасности, задать вопрос и проверить статус обращения — без звонка и без регистрации.</p>
<section id="outages" aria-labelledby="outages-h"><h2 id="outages-h">Отключения</h2>
<p>Плановые отключения на две недели вперёд и текущие аварийные отключения с временем восстановления.</p>
<form method="get" action="/reception/#outages" role="search" novalidate>{search}<button type="submit">Найти</button></form>
{results}</section>
<section id="report" aria-labelledby="report-h">{report}</section>
<section id="status" aria-labelledby="status-h"><h2 id="status-h">Статус обращения</h2>{status_form}</section>
<section id="faq" aria-labelledby="faq-h"><h2 id="faq-h">Вопросы и ответы</h2>"#,
        report = report_section(&ctx, &ReportFields::default(), &[], 2),
        status_form = status_form(&StatusFields::default(), &[]),
    );
    for faq in &ctx.content.faq {
        let _ = write!(
            main,
            "<details><summary>{}</summary><p>{}</p></details>",
            escape(&faq.question),
            escape(&faq.answer)
        );
    }
    main.push_str("</section>");
    let connection_extra = connection_extra(&ctx, &ApplicationFields::default(), &[], "", 3);
    main.push_str(&article("connection", &ctx.content.connection, 2, &connection_extra));
    main.push_str(r#"<section id="offices" aria-labelledby="offices-h"><h2 id="offices-h">Центры обслуживания клиентов (ЦОК)</h2>"#);
    for office in &ctx.content.offices {
        let phones: Vec<String> = office
            .phones
            .iter()
            .map(|p| {
                let digits: String = p.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
                format!(r#"<a href="tel:{}">{}</a>"#, escape(&digits), escape(p))
            })
            .collect();
        let hours: Vec<String> = office.hours.iter().map(|h| escape(h)).collect();
        let _ = write!(
            main,
            r#"<article class="office"><h3>{}</h3><p>{}</p><p>Телефоны: {}</p><p>Часы работы:<br>{}</p>"#,
            escape(&office.name),
            escape(&office.address),
            phones.join(", "),
            hours.join("<br>")
        );
        if let Some(note) = &office.note {
            let _ = write!(main, r#"<p class="note">{}</p>"#, escape(note));
        }
        main.push_str("</article>");
    }
    main.push_str("</section>");
    main.push_str(&article("theft", &ctx.content.theft, 2, ""));
    main.push_str(&article("territory", &ctx.content.territory, 2, ""));
    main.push_str(&article("regulations", &ctx.content.regulations, 2, ""));
    html(status, layout("Интернет-приёмная", &main))
}

#[utoipa::path(
    get,
    path = "/reception/report",
    tag = "reception",
    summary = "The report form (HTML): the safety advice first, then the form",
    responses((status = 200, description = "The page", body = String, content_type = "text/html"))
)]
async fn report_page(State(ctx): State<ReceptionContext>) -> Response {
    let main = report_section(&ctx, &ReportFields::default(), &[], 1);
    html(StatusCode::OK, layout("Сообщить о проблеме", &main))
}

/// A report from the form: its number, or the form again with what to fix, or the limit's
/// page; the same domain function as `POST /api/public/appeals`.
#[utoipa::path(
    post,
    path = "/reception/report",
    tag = "reception",
    summary = "Send the report form (HTML answer); limited like POST /api/public/appeals",
    request_body(content = ReportFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Accepted: the page with the ticket number", body = String, content_type = "text/html"),
        (status = 400, description = "The body is not a form", body = String, content_type = "text/html"),
        (status = 413, description = "The body is larger than the limit", body = ErrorBody),
        (status = 422, description = "The form again, with what to fix next to each field; nothing was created", body = String, content_type = "text/html"),
        (status = 429, description = "Over a limit: a Russian page; nothing was created", body = String, content_type = "text/html",
            headers(("Retry-After" = u64, description = "Seconds until a submission can get through"))),
    )
)]
async fn report(
    State(ctx): State<ReceptionContext>,
    client: ClientAddr,
    form: Result<Form<ReportFields>, FormRejection>,
) -> Response {
    let fields = match form {
        Ok(Form(fields)) => fields,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return crate::error::ApiError::PayloadTooLarge.into_response();
        }
        Err(_) => {
            let main = "<h1>Форма не прочитана</h1><p>Отправьте форму со страницы <a href=\"/reception/report\">«Сообщить о проблеме»</a>.</p>";
            return html(StatusCode::BAD_REQUEST, layout("Форма не прочитана", main));
        }
    };
    let raw = RawReport {
        kind: &fields.kind,
        text: &fields.text,
        name: fields.name.as_deref(),
        phone: fields.phone.as_deref(),
        email: fields.email.as_deref(),
        place: fields.place.as_deref(),
        settlement_id: None,
        address: fields.address.as_deref(),
    };
    let report = match Report::parse(&raw) {
        Ok(report) => report,
        Err(errors) => {
            let main = report_section(&ctx, &fields, &errors, 1);
            return html(StatusCode::UNPROCESSABLE_ENTITY, layout("Ошибка в форме", &main));
        }
    };
    let hazard = report.kind == ReportKind::Hazard;
    let has_phone = report.phone.is_some();
    let number = match submit(&ctx, report, client.limit_key()).await {
        Ok(WebSubmission::Created(ticket)) => {
            tracing::info!(number = %ticket.number, category = %ticket.category, "report received from the web page");
            ticket.number.to_string()
        }
        Ok(WebSubmission::Repeat { number }) => number,
        Ok(WebSubmission::Limited { retry_after_s, limit }) => {
            let main = format!(
                r#"<h1>Слишком много обращений</h1><p role="alert">{}</p><p><a href="/reception/">Вернуться в интернет-приёмную</a></p>"#,
                escape(&refusal_text(limit, retry_after_s))
            );
            let mut response = html(StatusCode::TOO_MANY_REQUESTS, layout("Слишком много обращений", &main));
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after_s.max(1)));
            return response;
        }
        Err(e) => return unavailable(e),
    };
    let urgent = if hazard {
        "<p><strong>Сообщение об опасности передано дежурному диспетчеру.</strong> Не подходите к месту повреждения. Если кто-то пострадал — звоните 112.</p>"
    } else {
        ""
    };
    let follow = if has_phone {
        format!(
            r#"<p>Статус можно проверить в разделе <a href="/reception/status?number={number}">«Статус обращения»</a> по номеру и последним четырём цифрам телефона.</p>"#
        )
    } else {
        "<p>Вы не указали телефон, поэтому статус обращения на сайте не показывается; назовите номер по телефону 8-800-50-50-115.</p>".to_string()
    };
    let main = format!(
        r#"<h1>Обращение принято</h1><p class="number" role="status">Номер обращения: <strong id="ticket-number">{number}</strong></p><p>Запишите его — он понадобится, чтобы узнать статус.</p>{urgent}{follow}<p><a href="/reception/">Вернуться в интернет-приёмную</a></p>"#
    );
    html(StatusCode::CREATED, layout("Обращение принято", &main))
}

/// The status lookup: the form, with the appeal's status and answer when both fields match.
#[utoipa::path(
    get,
    path = "/reception/status",
    operation_id = "appeal_status_page",
    tag = "reception",
    summary = "The status of an appeal for its author (HTML), with the operator's answer",
    params(StatusFields),
    responses(
        (status = 200, description = "The form, and the status when both fields match", body = String, content_type = "text/html"),
        (status = 400, description = "The query does not parse", body = String, content_type = "text/html"),
        (status = 422, description = "A field is wrong or nothing matches: the page says so next to the field", body = String, content_type = "text/html"),
    )
)]
async fn status(
    State(ctx): State<ReceptionContext>,
    client: ClientAddr,
    query: Result<Query<StatusFields>, QueryRejection>,
) -> Response {
    let Ok(Query(fields)) = query else { return unreadable_address() };
    let mut errors = Vec::new();
    let mut result = String::new();
    let asked = fields.phone_last4.is_some();
    let number = fields.number.as_deref().unwrap_or_default().trim();
    if asked {
        let parsed: Result<TicketNumber, _> = number.parse();
        if parsed.is_err() {
            errors.push(FieldError {
                field: "number",
                message: "Номер обращения — это цифры, которые вам назвали при отправке".into(),
            });
        }
        let last4 = phone_last4(fields.phone_last4.as_deref().unwrap_or_default())
            .map_err(|message| errors.push(FieldError { field: "phone_last4", message }));
        if let (Ok(number), Ok(last4)) = (parsed, last4) {
            match appeal_status(&ctx, number, &last4, &client.limit_key()).await {
                Ok(StatusLookup::Found(found)) => {
                    let answer = match &found.answer {
                        Some(answer) => format!(r#"<h3>Ответ</h3><p class="answer">{}</p>"#, escape(answer)),
                        None => "<p>Ответа пока нет: он появится здесь.</p>".to_string(),
                    };
                    result = format!(
                        r#"<div class="result" role="status"><h2>Обращение № {}</h2><p>Статус: <strong id="status-text">{}</strong></p><p>Обновлено: {}</p>{answer}</div>"#,
                        escape(&found.number),
                        found.status_text,
                        local(found.updated_at, &ctx.timezone)
                    );
                }
                Ok(StatusLookup::Throttled { retry_after_s }) => {
                    errors.push(FieldError { field: "number", message: lookups_throttled(retry_after_s) })
                }
                Ok(StatusLookup::NotFound) => errors.push(FieldError {
                    field: "number",
                    message: "Обращение с таким номером и такими последними цифрами телефона не найдено".into(),
                }),
                Err(e) => return unavailable(e),
            }
        }
    }
    let code = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let main = format!("<h1>Статус обращения</h1>{}{result}", status_form(&fields, &errors));
    html(code, layout("Статус обращения", &main))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ApplicationFields {
    /// The connection application's number (digits), as in the applicant's documents.
    number: Option<String>,
}

/// The application status form, the lookup's `result` under it, and the samples to print, as
/// the connection section ends; headings of `level`.
fn connection_extra(
    ctx: &ReceptionContext,
    fields: &ApplicationFields,
    errors: &[FieldError],
    result: &str,
    level: u8,
) -> String {
    let number = field_with_id(
        "application-number",
        "number",
        "Номер заявки",
        fields.number.as_deref().unwrap_or_default(),
        errors,
        r#"type="text" inputmode="numeric" maxlength="32" autocomplete="off""#,
        Some("Указан в личном кабинете и в документах, выданных при подаче заявки, например 20261234"),
    );
    let mut samples = String::new();
    for sample in &ctx.content.samples {
        let slug = escape(&sample.slug);
        let _ = write!(
            samples,
            r#"<li class="sample-item"><p><strong id="sample-{slug}-title">{title}</strong><br>{summary}</p><p><a href="/reception/connection/samples/{slug}" aria-describedby="sample-{slug}-title">Открыть для печати</a> · <a href="/reception/connection/samples/{slug}?download=1" download="{slug}.html" aria-describedby="sample-{slug}-title">Скачать</a></p></li>"#,
            title = escape(&sample.title),
            summary = escape(&sample.summary),
        );
    }
    format!(
        r#"<h{level} id="application-h">Статус заявки</h{level}>
<p>Узнайте, на каком этапе ваша заявка на технологическое присоединение, — по её номеру, без звонка.</p>
{summary}<form method="get" action="/reception/connection/status" novalidate>{number}<button type="submit">Узнать статус заявки</button></form>
{result}
<h{level} id="samples-h">Образцы заявлений</h{level}>
<p>{lead}</p>
<ul class="samples">{samples}</ul>"#,
        summary = error_summary(errors),
        lead = escape(&ctx.content.samples_lead),
    )
}

/// The technological-connection section as a page of its own: procedure, documents, deadlines
/// and fees, the application status form and the samples.
#[utoipa::path(
    get,
    path = "/reception/connection",
    tag = "reception",
    summary = "Technological connection (HTML): procedure, documents, fees, application status, samples",
    responses((status = 200, description = "The page", body = String, content_type = "text/html"))
)]
async fn connection_page(State(ctx): State<ReceptionContext>) -> Response {
    let extra = connection_extra(&ctx, &ApplicationFields::default(), &[], "", 2);
    let main = article("connection", &ctx.content.connection, 1, &extra);
    html(StatusCode::OK, layout(&ctx.content.connection.title, &main))
}

/// What to do when the number is not found: it may be mistyped, or not imported yet.
const APPLICATION_NOT_FOUND_ADVICE: &str = r#"<div class="result" role="status"><h2>Заявка с таким номером не найдена</h2><ul><li>Проверьте номер: он указан в личном кабинете на портале электросетевых услуг и в документах, выданных при подаче заявки.</li><li>Если заявка подана недавно, сведения о ней могут появиться здесь через один-два рабочих дня.</li><li>Позвоните на горячую линию <a href="tel:+78005050115">8-800-50-50-115</a> (бесплатно, пункт меню 4) или обратитесь в <a href="/reception/#offices">центр обслуживания клиентов (ЦОК)</a> с паспортом.</li></ul></div>"#;

/// An application's status by number: the form again, with the status and its date, or what
/// is wrong with the number next to the field.
#[utoipa::path(
    get,
    path = "/reception/connection/status",
    tag = "reception",
    summary = "The status of a technological-connection application by its number (HTML)",
    params(ApplicationFields),
    responses(
        (status = 200, description = "The status and the date it was last updated; the form alone without a number", body = String, content_type = "text/html"),
        (status = 400, description = "The query does not parse", body = String, content_type = "text/html"),
        (status = 404, description = "No application with that number: the page says what to do", body = String, content_type = "text/html"),
        (status = 422, description = "The number is empty, not digits or too long: the page says so next to the field; nothing was looked up", body = String, content_type = "text/html"),
        (status = 429, description = "Too many unknown numbers from this address lately", body = String, content_type = "text/html",
            headers(("Retry-After" = u64, description = "Seconds until the next lookup is taken"))),
    )
)]
async fn application_status_page(
    State(ctx): State<ReceptionContext>,
    client: ClientAddr,
    query: Result<Query<ApplicationFields>, QueryRejection>,
) -> Response {
    let Ok(Query(fields)) = query else { return unreadable_address() };
    let mut errors = Vec::new();
    let mut result = String::new();
    let mut code = StatusCode::OK;
    let mut retry_after = None;
    if let Some(raw) = fields.number.as_deref() {
        match application_number(raw) {
            Err(message) => {
                code = StatusCode::UNPROCESSABLE_ENTITY;
                errors.push(FieldError { field: "application-number", message });
            }
            Ok(number) => match application_status(&ctx, &number, &client.limit_key()).await {
                Ok(ApplicationLookup::Found(found)) => {
                    let updated = crate::ivr::russian::written_date(
                        found.updated_at.to_jiff().to_zoned(ctx.timezone.clone()).date(),
                    );
                    result = format!(
                        r#"<div class="result" role="status"><h2>Заявка № {}</h2><p>Статус: <strong id="application-status-text">{}</strong></p><p>Статус обновлён: <span id="application-updated">{updated}</span></p><p>Подробности и документы по заявке — в личном кабинете или по телефону <a href="tel:+78005050115">8-800-50-50-115</a>.</p></div>"#,
                        escape(&found.number),
                        escape(&found.status),
                    );
                }
                Ok(ApplicationLookup::NotFound) => {
                    code = StatusCode::NOT_FOUND;
                    errors.push(FieldError {
                        field: "application-number",
                        message: "Заявка с таким номером не найдена: проверьте номер".into(),
                    });
                    result = APPLICATION_NOT_FOUND_ADVICE.to_string();
                }
                Ok(ApplicationLookup::Throttled { retry_after_s }) => {
                    code = StatusCode::TOO_MANY_REQUESTS;
                    retry_after = Some(retry_after_s);
                    errors.push(FieldError {
                        field: "application-number",
                        message: application_lookups_throttled(retry_after_s),
                    });
                }
                Err(e) => return unavailable(e),
            },
        }
    }
    let main = format!(
        r#"<h1>Статус заявки на технологическое присоединение</h1>{}<p><a href="/reception/connection">Технологическое присоединение: порядок, документы, образцы заявлений</a></p>"#,
        connection_extra(&ctx, &fields, &errors, &result, 2)
    );
    let mut response = html(code, layout("Статус заявки", &main));
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

/// A sample as a paper form: the addressee, the title, a numbered point per answer with blank
/// lines, the attachments and the signature lines. The same markup is the printed page and
/// the downloaded file.
fn sample_document(sample: &Sample) -> String {
    let blank = r#"<span class="blank" aria-hidden="true"></span>"#;
    let mut out = String::from(r#"<article class="sample" aria-labelledby="sample-h"><div class="sample-to">"#);
    for line in &sample.to {
        let _ = write!(out, "<p>{}</p>", escape(line));
    }
    let _ = write!(
        out,
        r#"</div><h1 id="sample-h">{}</h1><p class="sample-basis">{}</p><p>{}</p><ol class="sample-fields">"#,
        escape(&sample.title),
        escape(&sample.basis),
        escape(&sample.request)
    );
    for field in &sample.fields {
        let _ = write!(out, r#"<li><p class="sample-label">{}</p>"#, escape(&field.label));
        if let Some(hint) = &field.hint {
            let _ = write!(out, r#"<p class="sample-hint">({})</p>"#, escape(hint));
        }
        if let Some(filled) = &field.filled {
            let _ = write!(out, r#"<p class="sample-filled">{}</p>"#, escape(filled));
        }
        for _ in 0..field.lines.unwrap_or(0) {
            out.push_str(blank);
        }
        if !field.choices.is_empty() {
            out.push_str(r#"<ul class="sample-choices">"#);
            for choice in &field.choices {
                let _ = write!(out, r#"<li><span aria-hidden="true">☐</span> {}</li>"#, escape(choice));
            }
            out.push_str("</ul>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ol>");
    if !sample.attachments.is_empty() {
        out.push_str(r#"<h2>Приложения</h2><ol class="sample-attachments">"#);
        for attachment in &sample.attachments {
            let _ = write!(out, "<li>{}</li>", escape(attachment));
        }
        out.push_str("</ol>");
    }
    out.push_str(r#"<div class="sample-signature">"#);
    for label in &sample.signature {
        let _ = write!(out, r#"<div>{blank}<p class="sample-hint">{}</p></div>"#, escape(label));
    }
    out.push_str("</div></article>");
    out
}

/// How to fill in and hand in a sample: on the page, never on the paper.
fn sample_notes(sample: &Sample) -> String {
    if sample.notes.is_empty() {
        return String::new();
    }
    let mut out =
        String::from(r#"<section class="noprint" aria-labelledby="notes-h"><h2 id="notes-h">Как подать</h2><ul>"#);
    for note in &sample.notes {
        let _ = write!(out, "<li>{}</li>", escape(note));
    }
    out.push_str("</ul></section>");
    out
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SampleQuery {
    /// `1`: the same document as a file to save (`<slug>.html`) instead of a page.
    download: Option<u8>,
}

/// A sample application to print (the page, whose navigation the print style sheet leaves
/// out) or to download as a file that stands on its own.
#[utoipa::path(
    get,
    path = "/reception/connection/samples/{slug}",
    tag = "reception",
    summary = "A sample application to print, or with download=1 to save as an HTML file",
    params(("slug" = String, Path, description = "The sample's name, as the connection page links it"), SampleQuery),
    responses(
        (status = 200, description = "The printable page, or the file (Content-Disposition: attachment)", body = String, content_type = "text/html"),
        (status = 400, description = "The query does not parse", body = String, content_type = "text/html"),
        (status = 404, description = "No sample by that name", body = String, content_type = "text/html"),
    )
)]
async fn sample_page(
    State(ctx): State<ReceptionContext>,
    slug: Result<Path<String>, PathRejection>,
    query: Result<Query<SampleQuery>, QueryRejection>,
) -> Response {
    let (Ok(Path(slug)), Ok(Query(query))) = (slug, query) else { return unreadable_address() };
    let Some(sample) = ctx.content.sample(&slug) else {
        let main = r#"<h1>Образец не найден</h1><p>Такого образца заявления нет — возможно, ссылка устарела. Все образцы — на странице <a href="/reception/connection">«Технологическое присоединение»</a>; бланки выдают и в любом центре обслуживания клиентов.</p>"#;
        return html(StatusCode::NOT_FOUND, layout("Образец не найден", main));
    };
    let document = sample_document(sample);
    let notes = sample_notes(sample);
    if query.download.unwrap_or(0) != 0 {
        // A file opened later from the disk has no server to fetch the style sheet from, so it
        // carries the sheet inside. Sent as an attachment it is saved, not shown: the policy
        // below (the pages' own) would keep that inline sheet from applying only if it were.
        let file = format!(
            r#"<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{STYLE}
</style>
</head>
<body>
<main>
{document}
{notes}
<p class="note noprint">Образец из интернет-приёмной «Ярэнерго». Горячая линия 8-800-50-50-115.</p>
</main>
</body>
</html>
"#,
            title = escape(&sample.title)
        );
        let mut response = html(StatusCode::OK, file);
        let disposition = format!(r#"attachment; filename="{}.html""#, sample.slug);
        // The slug was checked to be Latin letters, digits and hyphens when the texts loaded.
        response.headers_mut().insert(CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("a safe slug"));
        return response;
    }
    let slug = escape(&sample.slug);
    let main = format!(
        r#"<div class="noprint sample-tools"><p><a href="/reception/connection">Технологическое присоединение</a> › Образец заявления</p><p>Чтобы распечатать, выберите «Печать» в меню браузера (на компьютере — Ctrl+P): меню и оформление сайта на бумагу не попадут. <a id="download" href="/reception/connection/samples/{slug}?download=1" download="{slug}.html">Скачать образец файлом</a></p></div>
{document}
{notes}"#
    );
    html(StatusCode::OK, layout(&sample.title, &main))
}

/// The page a visitor gets when the database does not answer: where to turn instead.
fn unavailable(e: crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "the internet reception could not reach the database");
    let main = "<h1>Сервис временно недоступен</h1><p>Повторите попытку через несколько минут. Если оборван провод, искрит или есть угроза жизни — звоните <a href=\"tel:+78005050115\">8-800-50-50-115</a> или <a href=\"tel:112\">112</a>.</p>";
    html(StatusCode::SERVICE_UNAVAILABLE, layout("Сервис временно недоступен", main))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_a_visitor_types_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert('x')</script> & "q""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let fields =
            ReportFields { text: "</textarea><b>".into(), name: Some("\"><img>".into()), ..Default::default() };
        let form = report_form(&fields, &[FieldError { field: "text", message: "<i>".into() }]);
        assert!(!form.contains("<b>") && !form.contains("<img>") && !form.contains("<i>"), "{form}");
        assert!(form.contains(r#"aria-describedby="text-error" aria-invalid="true""#), "{form}");
    }

    #[test]
    fn a_sample_is_a_paper_form_with_lines_to_fill_boxes_to_tick_and_its_text_escaped() {
        let content = crate::reception::Content::built_in();
        let sample = content.sample("zayavka-do-15-kvt").unwrap();
        let document = sample_document(sample);
        let lines: usize = sample.fields.iter().map(|f| usize::from(f.lines.unwrap_or(0))).sum();
        assert_eq!(document.matches(r#"class="blank""#).count(), lines + sample.signature.len());
        let choices: usize = sample.fields.iter().map(|f| f.choices.len()).sum();
        assert_eq!(document.matches("☐").count(), choices);
        assert_eq!(document.matches("<h1").count(), 1);
        let mut hostile = sample.clone();
        hostile.title = "<script>x</script>".into();
        hostile.fields[0].label = "<img src=x>".into();
        let document = sample_document(&hostile);
        assert!(!document.contains("<script>") && !document.contains("<img"), "{document}");
    }

    #[test]
    fn a_page_is_russian_with_one_h1_and_landmarks() {
        let page = layout("Проба", "<h1>Проба</h1>");
        assert!(page.contains(r#"<html lang="ru">"#));
        assert_eq!(page.matches("<h1").count(), 1);
        for landmark in ["<header", "<nav", "<main", "<footer"] {
            assert!(page.contains(landmark), "{landmark}");
        }
    }
}
