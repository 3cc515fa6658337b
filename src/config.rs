//! Settings: environment variables first, then an optional `hotline.toml`, then the defaults of SPEC §2.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;

/// A value that must never reach a log line: its `Debug` says only that it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A setting that could not be read; names the variable so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

fn invalid(variable: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { variable, reason: reason.into() }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://...`; kept secret because it may carry a password.
    pub database_url: Secret,
    /// Base of every URL handed to a provider or put in an e-mail, without a trailing slash.
    pub public_url: String,
    /// `None`: `./ivr-scripts` when it exists, otherwise the menus built into the binary.
    pub scripts_dir: Option<PathBuf>,
    pub twilio_auth_token: Option<Secret>,
    pub jambonz_secret: Option<Secret>,
    pub smtp_url: Option<Secret>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    pub bootstrap_admin: Option<(String, Secret)>,
    pub timezone: TimeZone,
    /// How long a login token stays valid: an operator's shift plus some slack.
    pub session_hours: u32,
    /// Seconds added to a waiting item's wait by category.
    pub queue_ordering: crate::queue::Ordering,
    /// An operator's console that has not been heard from for this long loses what it holds.
    pub operator_lease_s: i64,
    /// The disposition codes wrap-up accepts.
    pub dispositions: Vec<String>,
    /// A caller with a ticket this recent is a returning caller: offered that ticket's
    /// settlement and linked to it if it is still open.
    pub returning_hours: i64,
    /// Outage reports from one settlement this close together are one incident.
    pub incident_window_s: i64,
    /// Storm mode switches itself on when this many incidents are open at once.
    pub storm_threshold: i64,
    /// Load sample planned outages and applications into a brand-new database.
    pub demo: bool,
    /// A policy file of the operator's own; `None` uses the policies built into the binary.
    pub escalation_policies: Option<PathBuf>,
    /// The region's duty dispatcher (`+7...` or `sip:...`): a hazard caller is put through
    /// there when no operator is on shift.
    pub duty_phone: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see `client_addr`); empty:
    /// the peer address is the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// The text-to-speech vendor and voice every jambonz `say` names.
    pub jambonz_tts: crate::telephony::jambonz::Tts,
    /// The provider's REST API through which the hotline places calls (SPEC §8); `None`: it places none.
    pub outbound: Option<crate::outbound::ProviderApi>,
    /// The caller ID of the calls the hotline places.
    pub outbound_from: String,
    /// How long what callers leave behind is kept (SPEC §2, §6), and how often that is applied.
    pub retention: crate::lifecycle::Retention,
}

/// Every setting by its environment variable name; `hotline.toml` may use the same name or the
/// name in lower case without the `HOTLINE_` prefix (`listen = "0.0.0.0:8080"`).
pub const VARIABLES: &[&str] = &[
    "HOTLINE_LISTEN",
    "HOTLINE_DATABASE_URL",
    "HOTLINE_PUBLIC_URL",
    "HOTLINE_SCRIPTS_DIR",
    "HOTLINE_TWILIO_AUTH_TOKEN",
    "HOTLINE_JAMBONZ_SECRET",
    "HOTLINE_SMTP_URL",
    "HOTLINE_MAIL_DIR",
    "HOTLINE_MAIL_FROM",
    "HOTLINE_BOOTSTRAP_ADMIN",
    "HOTLINE_TIMEZONE",
    "HOTLINE_SESSION_HOURS",
    "HOTLINE_QUEUE_OFFSETS",
    "HOTLINE_OPERATOR_LEASE_S",
    "HOTLINE_DISPOSITIONS",
    "HOTLINE_RETURNING_HOURS",
    "HOTLINE_INCIDENT_WINDOW_MIN",
    "HOTLINE_STORM_THRESHOLD",
    "HOTLINE_DEMO",
    "HOTLINE_ESCALATION_POLICIES",
    "HOTLINE_DUTY_PHONE",
    "HOTLINE_TRUSTED_PROXIES",
    "HOTLINE_JAMBONZ_TTS_VENDOR",
    "HOTLINE_JAMBONZ_TTS_VOICE",
    "HOTLINE_OUTBOUND",
    "HOTLINE_OUTBOUND_FROM",
    "HOTLINE_TWILIO_ACCOUNT_SID",
    "HOTLINE_TWILIO_API_URL",
    "HOTLINE_JAMBONZ_API_URL",
    "HOTLINE_JAMBONZ_ACCOUNT_SID",
    "HOTLINE_JAMBONZ_API_KEY",
    "HOTLINE_RETAIN_REPLAYS",
    "HOTLINE_RETAIN_CALLS",
    "HOTLINE_RETAIN_TICKETS",
];

impl Settings {
    /// Reads the process environment and `hotline.toml` in the working directory (or the file
    /// named by `HOTLINE_CONFIG`).
    pub fn load() -> Result<Self, ConfigError> {
        let explicit = std::env::var_os("HOTLINE_CONFIG").map(PathBuf::from);
        let path = explicit.clone().unwrap_or_else(|| PathBuf::from("hotline.toml"));
        let mut values = if path.exists() || explicit.is_some() { read_toml(&path)? } else { HashMap::new() };
        for name in VARIABLES {
            if let Ok(value) = std::env::var(name) {
                values.insert(name, value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds settings from variable names to raw values; what is missing takes its default.
    pub fn from_values(values: &HashMap<&'static str, String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let secret = |name| get(name).map(Secret::new);

        let listen_raw = get("HOTLINE_LISTEN").unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen_raw.parse().map_err(|_| {
            invalid(
                "HOTLINE_LISTEN",
                format!("'{listen_raw}' is not an address to bind (expected IP:PORT, e.g. 127.0.0.1:8080)"),
            )
        })?;

        let database_url = get("HOTLINE_DATABASE_URL").unwrap_or("sqlite://hotline.db");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "HOTLINE_DATABASE_URL",
                "must start with sqlite:// or postgres:// (the scheme picks the database)",
            ));
        }

        let public_url = match get("HOTLINE_PUBLIC_URL") {
            Some(url) => parse_public_url(url)?,
            None => format!("http://{listen}"),
        };

        let bootstrap_admin = match get("HOTLINE_BOOTSTRAP_ADMIN") {
            None => None,
            Some(pair) => match pair.split_once(':') {
                Some((name, password)) if !name.is_empty() && !password.is_empty() => {
                    Some((name.to_string(), Secret::new(password)))
                }
                _ => {
                    return Err(invalid("HOTLINE_BOOTSTRAP_ADMIN", "expected NAME:PASSWORD with both parts non-empty"));
                }
            },
        };

        let tz_name = get("HOTLINE_TIMEZONE").unwrap_or("Europe/Moscow");
        let timezone = TimeZone::get(tz_name).map_err(|_| {
            invalid("HOTLINE_TIMEZONE", format!("'{tz_name}' is not a known IANA time zone (e.g. Europe/Moscow)"))
        })?;

        let mail_from = get("HOTLINE_MAIL_FROM").unwrap_or("hotline@localhost").to_string();
        if !mail_from.contains('@') {
            return Err(invalid("HOTLINE_MAIL_FROM", format!("'{mail_from}' is not an e-mail address")));
        }

        let smtp_url = secret("HOTLINE_SMTP_URL");
        if let Some(url) = &smtp_url {
            if !(url.expose().starts_with("smtp://") || url.expose().starts_with("smtps://")) {
                return Err(invalid("HOTLINE_SMTP_URL", "must start with smtp:// or smtps://"));
            }
        }

        let session_hours = match get("HOTLINE_SESSION_HOURS") {
            None => 13,
            Some(raw) => raw.parse::<u32>().ok().filter(|h| (1..=24 * 30).contains(h)).ok_or_else(|| {
                invalid("HOTLINE_SESSION_HOURS", format!("'{raw}' is not a number of hours from 1 to 720"))
            })?,
        };

        let queue_ordering = match get("HOTLINE_QUEUE_OFFSETS") {
            None => crate::queue::Ordering::default(),
            Some(raw) => crate::queue::Ordering::parse(raw).map_err(|e| invalid("HOTLINE_QUEUE_OFFSETS", e))?,
        };
        let operator_lease_s = match get("HOTLINE_OPERATOR_LEASE_S") {
            None => 90,
            Some(raw) => raw.parse::<i64>().ok().filter(|s| (10..=3600).contains(s)).ok_or_else(|| {
                invalid("HOTLINE_OPERATOR_LEASE_S", format!("'{raw}' is not a number of seconds from 10 to 3600"))
            })?,
        };
        let dispositions: Vec<String> = match get("HOTLINE_DISPOSITIONS") {
            None => crate::queue::DEFAULT_DISPOSITIONS.iter().map(|d| d.to_string()).collect(),
            Some(raw) => raw.split(',').map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect(),
        };
        if dispositions.is_empty() {
            return Err(invalid("HOTLINE_DISPOSITIONS", "name at least one disposition code"));
        }

        let returning_hours = match get("HOTLINE_RETURNING_HOURS") {
            None => 72,
            Some(raw) => raw.parse::<i64>().ok().filter(|h| (0..=24 * 90).contains(h)).ok_or_else(|| {
                invalid("HOTLINE_RETURNING_HOURS", format!("'{raw}' is not a number of hours from 0 to 2160"))
            })?,
        };

        let number = |name: &'static str,
                      default: i64,
                      range: std::ops::RangeInclusive<i64>|
         -> Result<i64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                    invalid(name, format!("'{raw}' is not a whole number from {} to {}", range.start(), range.end()))
                }),
            }
        };
        let incident_window_s = number("HOTLINE_INCIDENT_WINDOW_MIN", 120, 1..=24 * 60)? * 60;
        let storm_threshold = number("HOTLINE_STORM_THRESHOLD", 10, 1..=100_000)?;
        let demo = match get("HOTLINE_DEMO").map(str::to_ascii_lowercase).as_deref() {
            None | Some("on" | "true" | "1" | "yes") => true,
            Some("off" | "false" | "0" | "no") => false,
            Some(other) => return Err(invalid("HOTLINE_DEMO", format!("'{other}' is not on or off"))),
        };

        let duty_phone = match get("HOTLINE_DUTY_PHONE").map(str::trim) {
            None | Some("") => None,
            Some(sip) if sip.starts_with("sip:") && sip.len() > 4 => Some(sip.to_string()),
            Some(raw) => Some(crate::phone::PhoneNumber::parse(raw).map(|p| p.to_string()).map_err(|_| {
                invalid("HOTLINE_DUTY_PHONE", format!("'{raw}' is neither a phone number (+7...) nor a sip: address"))
            })?),
        };

        let trusted_proxies = match get("HOTLINE_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse::<IpAddr>().map_err(|_| {
                        invalid(
                            "HOTLINE_TRUSTED_PROXIES",
                            format!("'{a}' is not an IP address (expected addresses separated by commas)"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let tts_vendor = get("HOTLINE_JAMBONZ_TTS_VENDOR").unwrap_or(crate::telephony::jambonz::DEFAULT_TTS_VENDOR);
        if tts_vendor.contains(char::is_whitespace) {
            return Err(invalid(
                "HOTLINE_JAMBONZ_TTS_VENDOR",
                format!("'{tts_vendor}' is not a jambonz vendor name (google, aws, microsoft, custom:NAME, ...)"),
            ));
        }
        let jambonz_tts = crate::telephony::jambonz::Tts::new(tts_vendor, get("HOTLINE_JAMBONZ_TTS_VOICE"));

        let twilio_auth_token = secret("HOTLINE_TWILIO_AUTH_TOKEN");
        // A provider named without what placing calls through it takes stops the start here,
        // not at the first emergency.
        let needed = |name: &'static str, provider: &str| {
            get(name).ok_or_else(|| {
                invalid(name, format!("HOTLINE_OUTBOUND={provider} places calls through this account: set it"))
            })
        };
        let outbound = match get("HOTLINE_OUTBOUND").map(str::to_ascii_lowercase).as_deref() {
            None | Some("off") => None,
            Some("twilio") => Some(crate::outbound::ProviderApi::Twilio {
                api_url: parse_api_url(
                    "HOTLINE_TWILIO_API_URL",
                    get("HOTLINE_TWILIO_API_URL").unwrap_or("https://api.twilio.com"),
                )?,
                account_sid: needed("HOTLINE_TWILIO_ACCOUNT_SID", "twilio")?.to_string(),
                auth_token: twilio_auth_token.clone().ok_or_else(|| {
                    invalid(
                        "HOTLINE_TWILIO_AUTH_TOKEN",
                        "HOTLINE_OUTBOUND=twilio signs its requests with the auth token: set it",
                    )
                })?,
            }),
            Some("jambonz") => Some(crate::outbound::ProviderApi::Jambonz {
                api_url: parse_api_url("HOTLINE_JAMBONZ_API_URL", needed("HOTLINE_JAMBONZ_API_URL", "jambonz")?)?,
                account_sid: needed("HOTLINE_JAMBONZ_ACCOUNT_SID", "jambonz")?.to_string(),
                api_key: Secret::new(needed("HOTLINE_JAMBONZ_API_KEY", "jambonz")?),
            }),
            Some(other) => {
                return Err(invalid("HOTLINE_OUTBOUND", format!("'{other}' is not off, twilio or jambonz")));
            }
        };
        let outbound_from_raw = get("HOTLINE_OUTBOUND_FROM").unwrap_or("+78005050115");
        let outbound_from =
            crate::phone::PhoneNumber::parse(outbound_from_raw).map(|p| p.to_string()).map_err(|_| {
                invalid("HOTLINE_OUTBOUND_FROM", format!("'{outbound_from_raw}' is not a phone number (+7...)"))
            })?;

        let duration = |name: &'static str, default: &str| -> Result<Duration, ConfigError> {
            let raw = get(name).unwrap_or(default);
            parse_duration(raw).map_err(|reason| invalid(name, reason))
        };
        let retention = crate::lifecycle::Retention {
            replays: duration("HOTLINE_RETAIN_REPLAYS", "1d")?,
            calls: duration("HOTLINE_RETAIN_CALLS", "90d")?,
            tickets: duration("HOTLINE_RETAIN_TICKETS", "3y")?,
            every: crate::lifecycle::APPLIED_EVERY,
        };

        Ok(Settings {
            listen,
            database_url: Secret::new(database_url),
            public_url,
            scripts_dir: get("HOTLINE_SCRIPTS_DIR").map(PathBuf::from),
            twilio_auth_token,
            jambonz_secret: secret("HOTLINE_JAMBONZ_SECRET"),
            smtp_url,
            mail_dir: PathBuf::from(get("HOTLINE_MAIL_DIR").unwrap_or("mail-outbox")),
            mail_from,
            bootstrap_admin,
            timezone,
            session_hours,
            queue_ordering,
            operator_lease_s,
            dispositions,
            returning_hours,
            incident_window_s,
            storm_threshold,
            demo,
            escalation_policies: get("HOTLINE_ESCALATION_POLICIES").map(PathBuf::from),
            duty_phone,
            trusted_proxies,
            jambonz_tts,
            outbound,
            outbound_from,
            retention,
        })
    }

    /// Refuses to serve unsigned webhooks to the world: off loopback, every provider dialect
    /// without its secret would accept calls forged by anyone who can reach the port.
    pub fn check_exposure(&self, bound: SocketAddr) -> Result<(), ConfigError> {
        if bound.ip().is_loopback() {
            return Ok(());
        }
        let missing: Vec<&str> =
            [("HOTLINE_TWILIO_AUTH_TOKEN", &self.twilio_auth_token), ("HOTLINE_JAMBONZ_SECRET", &self.jambonz_secret)]
                .iter()
                .filter(|(_, secret)| secret.is_none())
                .map(|(name, _)| *name)
                .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(invalid(
            "HOTLINE_LISTEN",
            format!(
                "{} is not a loopback address, and {} {} unset: unsigned webhooks would be accepted from anyone. \
                 Set the provider secrets (a dialect you do not use can get any long random value) or listen on 127.0.0.1",
                bound,
                missing.join(" and "),
                if missing.len() == 1 { "is" } else { "are" }
            ),
        ))
    }
}

/// The longest retention a setting may name: a century is "keep", a bigger number a typo.
const LONGEST_S: u64 = 100 * 365 * 24 * 3600;

/// A duration as the retention settings write it: a whole number and a unit, `s`, `m`, `h`,
/// `d` or `y` (365 days): `90d`, `3y`, `12h`; `0d` is "at once".
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let explain = || format!("'{raw}' is not a duration: a whole number and a unit (s, m, h, d, y), e.g. 90d or 3y");
    let split = raw.find(|c: char| !c.is_ascii_digit()).ok_or_else(explain)?;
    let (number, unit) = raw.split_at(split);
    let unit_s: u64 = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        "y" => 365 * 24 * 3600,
        _ => return Err(explain()),
    };
    let seconds = number.parse::<u64>().ok().and_then(|n| n.checked_mul(unit_s)).ok_or_else(explain)?;
    if seconds > LONGEST_S {
        return Err(format!("'{raw}' is longer than a hundred years"));
    }
    Ok(Duration::from_secs(seconds))
}

fn parse_public_url(url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("HOTLINE_PUBLIC_URL", format!("'{url}' must start with http:// or https://")))?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#', ' ']) {
        return Err(invalid(
            "HOTLINE_PUBLIC_URL",
            format!("'{url}' must be a base URL such as https://hotline.example.ru"),
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A provider's REST API base: http(s), without a trailing slash.
fn parse_api_url(variable: &'static str, url: &str) -> Result<String, ConfigError> {
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(['?', '#', ' ']) {
        return Err(invalid(variable, format!("'{url}' must be a base URL such as https://api.example.com")));
    }
    Ok(url.trim_end_matches('/').to_string())
}

fn read_toml(path: &Path) -> Result<HashMap<&'static str, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid("HOTLINE_CONFIG", format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table =
        text.parse().map_err(|e| invalid("HOTLINE_CONFIG", format!("{} is not valid TOML: {e}", path.display())))?;
    let mut values = HashMap::new();
    for (key, value) in &table {
        let name = VARIABLES
            .iter()
            .find(|name| *name == key || name["HOTLINE_".len()..].eq_ignore_ascii_case(key))
            .ok_or_else(|| invalid("HOTLINE_CONFIG", format!("{}: unknown setting '{key}'", path.display())))?;
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            _ => {
                return Err(invalid(name, format!("{}: expected a string", path.display())));
            }
        };
        values.insert(*name, text);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&'static str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_values(&pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    #[test]
    fn defaults_follow_the_spec() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url.expose(), "sqlite://hotline.db");
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert_eq!(s.mail_dir, PathBuf::from("mail-outbox"));
        assert_eq!(s.timezone.iana_name(), Some("Europe/Moscow"));
        assert_eq!(s.jambonz_tts.vendor, "google");
        assert_eq!(s.jambonz_tts.voice_for("ru-RU"), Some("ru-RU-Wavenet-A"));
        s.check_exposure(s.listen).unwrap();
    }

    #[test]
    fn an_invalid_value_names_its_variable() {
        for (name, value) in [
            ("HOTLINE_LISTEN", "localhost"),
            ("HOTLINE_DATABASE_URL", "mysql://x"),
            ("HOTLINE_PUBLIC_URL", "ftp://x"),
            ("HOTLINE_TIMEZONE", "Mars/Olympus"),
            ("HOTLINE_BOOTSTRAP_ADMIN", "admin"),
            ("HOTLINE_SESSION_HOURS", "0"),
            ("HOTLINE_TRUSTED_PROXIES", "10.0.0.1, proxy.local"),
            ("HOTLINE_TRUSTED_PROXIES", "10.0.0.0/8"),
            ("HOTLINE_JAMBONZ_TTS_VENDOR", "google cloud"),
            ("HOTLINE_RETAIN_REPLAYS", "1 day"),
            ("HOTLINE_RETAIN_CALLS", "90"),
            ("HOTLINE_RETAIN_TICKETS", "3w"),
            ("HOTLINE_RETAIN_TICKETS", "-1d"),
        ] {
            let err = settings(&[(name, value)]).unwrap_err();
            assert_eq!(err.variable, name, "{err}");
        }
    }

    #[test]
    fn placing_calls_refuses_to_start_without_its_account() {
        assert!(settings(&[]).unwrap().outbound.is_none());
        for (pairs, missing) in [
            (vec![("HOTLINE_OUTBOUND", "twilio")], "HOTLINE_TWILIO_ACCOUNT_SID"),
            (vec![("HOTLINE_OUTBOUND", "twilio"), ("HOTLINE_TWILIO_ACCOUNT_SID", "AC1")], "HOTLINE_TWILIO_AUTH_TOKEN"),
            (vec![("HOTLINE_OUTBOUND", "jambonz")], "HOTLINE_JAMBONZ_API_URL"),
            (
                vec![("HOTLINE_OUTBOUND", "jambonz"), ("HOTLINE_JAMBONZ_API_URL", "https://j.example")],
                "HOTLINE_JAMBONZ_ACCOUNT_SID",
            ),
            (vec![("HOTLINE_OUTBOUND", "sms")], "HOTLINE_OUTBOUND"),
            (vec![("HOTLINE_OUTBOUND_FROM", "hotline")], "HOTLINE_OUTBOUND_FROM"),
        ] {
            let err = settings(&pairs).unwrap_err();
            assert_eq!(err.variable, missing, "{err}");
        }
        let twilio = settings(&[
            ("HOTLINE_OUTBOUND", "twilio"),
            ("HOTLINE_TWILIO_ACCOUNT_SID", "AC1"),
            ("HOTLINE_TWILIO_AUTH_TOKEN", "secret-token"),
        ])
        .unwrap();
        match &twilio.outbound {
            Some(crate::outbound::ProviderApi::Twilio { api_url, .. }) => assert_eq!(api_url, "https://api.twilio.com"),
            other => panic!("{other:?}"),
        }
        assert_eq!(twilio.outbound_from, "+78005050115");
        assert!(!format!("{twilio:?}").contains("secret-token"));
    }

    #[test]
    fn retention_defaults_and_durations_follow_the_spec() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.retention.replays, Duration::from_secs(24 * 3600));
        assert_eq!(s.retention.calls, Duration::from_secs(90 * 24 * 3600));
        assert_eq!(s.retention.tickets, Duration::from_secs(3 * 365 * 24 * 3600));
        assert_eq!(s.retention.every, Duration::from_secs(3600));
        for (raw, seconds) in [("0d", 0), ("0s", 0), ("45s", 45), ("30m", 1800), ("12h", 43_200), ("1y", 31_536_000)] {
            assert_eq!(parse_duration(raw), Ok(Duration::from_secs(seconds)), "{raw}");
        }
        for bad in ["", "d", "0", "1.5d", "1 d x", "1D", "99999999999999999999y", "101y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let err = settings(&[("HOTLINE_RETAIN_CALLS", "ninety days")]).unwrap_err();
        assert_eq!(err.variable, "HOTLINE_RETAIN_CALLS");
        assert!(err.to_string().contains("a whole number and a unit"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_a_list_of_addresses() {
        assert!(settings(&[]).unwrap().trusted_proxies.is_empty());
        let s = settings(&[("HOTLINE_TRUSTED_PROXIES", "10.0.0.1, ::1,")]).unwrap();
        assert_eq!(s.trusted_proxies, vec!["10.0.0.1".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]);
    }

    #[test]
    fn off_loopback_every_dialect_needs_its_secret() {
        let open = settings(&[("HOTLINE_LISTEN", "0.0.0.0:8080")]).unwrap();
        let err = open.check_exposure(open.listen).unwrap_err().to_string();
        assert!(err.contains("HOTLINE_TWILIO_AUTH_TOKEN") && err.contains("HOTLINE_JAMBONZ_SECRET"), "{err}");
        let signed = settings(&[
            ("HOTLINE_LISTEN", "0.0.0.0:8080"),
            ("HOTLINE_TWILIO_AUTH_TOKEN", "t"),
            ("HOTLINE_JAMBONZ_SECRET", "j"),
        ])
        .unwrap();
        signed.check_exposure(signed.listen).unwrap();
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = settings(&[("HOTLINE_DATABASE_URL", "postgres://u:hunter2@db/x")]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn toml_accepts_both_key_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hotline.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nHOTLINE_MAIL_FROM = \"a@b.ru\"\n").unwrap();
        let s = Settings::from_values(&read_toml(&path).unwrap()).unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.mail_from, "a@b.ru");
        std::fs::write(&path, "lisen = 1\n").unwrap();
        assert!(read_toml(&path).unwrap_err().to_string().contains("unknown setting 'lisen'"));
    }
}
