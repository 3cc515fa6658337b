//! Logging: human-readable lines on stderr, filtered by RUST_LOG (default: info), and what of a
//! request may appear in them.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Query parameters whose value is a secret: the console's bearer token on `/api/events`.
const SECRET_PARAMETERS: &[&str] = &["token", "access_token"];
/// Paths whose last part is a secret: the signed links in e-mails.
const SECRET_PATHS: &[&str] = &["/ack/"];

/// A request's URI as it may appear in a log: secrets (`?token=...`, the token of `/ack/{token}`)
/// replaced by `***`, and every phone number masked (`+7910***4567`, see `phone`).
pub fn loggable_uri(uri: &axum::http::Uri) -> String {
    let path = uri.path();
    let mut out = match SECRET_PATHS.iter().find(|prefix| path.starts_with(*prefix) && path.len() > prefix.len()) {
        Some(prefix) => format!("{prefix}***"),
        None => path.to_string(),
    };
    if let Some(query) = uri.query() {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                let secret = form_urlencoded::parse(name.as_bytes())
                    .next()
                    .is_some_and(|(name, _)| SECRET_PARAMETERS.iter().any(|s| name.eq_ignore_ascii_case(s)));
                if secret { format!("{name}=***") } else { pair.to_string() }
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    crate::phone::mask_phones_in(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::loggable_uri;

    fn logged(uri: &str) -> String {
        loggable_uri(&uri.parse().unwrap())
    }

    #[test]
    fn secrets_and_numbers_never_reach_the_log() {
        assert_eq!(logged("/api/events?token=abc.DEF_123"), "/api/events?token=***");
        assert_eq!(logged("/api/events?x=1&TOKEN=abc&y=2"), "/api/events?x=1&TOKEN=***&y=2");
        assert_eq!(logged("/api/events?%74oken=abc"), "/api/events?%74oken=***");
        assert_eq!(logged("/ack/eyJlIjoi.c2ln"), "/ack/***");
        assert_eq!(logged("/api/tickets?q=%2B7%20910%20123-45-67"), "/api/tickets?q=+7910***4567");
        assert_eq!(logged("/api/tickets?q=8(910)1234567&limit=5"), "/api/tickets?q=+7910***4567&limit=5");
        assert_eq!(logged("/api/tickets/100001?x=1"), "/api/tickets/100001?x=1");
        assert_eq!(logged("/ack/"), "/ack/");
    }
}
