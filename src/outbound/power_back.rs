//! Calls that tell callers the power is back (SPEC §8): when they may ring, and how fast.
//!
//! A caller who reported no power may ask to be called; the subscription is a row tied to the
//! settlement's incident. Resolving the incident queues one call per subscriber in the same
//! transaction; the dialer places them outside quiet hours, a few per second, after any
//! dispatcher's alert call.

use jiff::tz::TimeZone;

use crate::clock::Timestamp;

/// The script a caller hears when the power is back.
pub const SCRIPT: &str = "power_back";

/// Local hours in which nobody is woken to hear good news: from 22:00 until 08:00.
const QUIET_FROM_HOUR: i8 = 22;
const QUIET_UNTIL_HOUR: i8 = 8;

/// At most this many power-back calls are asked for per dialer tick (one a second, 3,600 an
/// hour per instance): a resolved storm incident with thousands of subscribers must not take
/// every line of the trunk from the hotline's own callers.
pub const CALLS_PER_TICK: i64 = 1;

/// Whether `now` falls in the quiet hours of `tz`; such calls wait for the morning.
pub fn quiet(now: Timestamp, tz: &TimeZone) -> bool {
    let hour = now.to_jiff().to_zoned(tz.clone()).hour();
    !(QUIET_UNTIL_HOUR..QUIET_FROM_HOUR).contains(&hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(local: &str) -> Timestamp {
        let zoned: jiff::Zoned = format!("{local}[Europe/Moscow]").parse().unwrap();
        zoned.timestamp().into()
    }

    #[test]
    fn the_night_is_quiet_from_ten_to_eight_local_time() {
        let moscow = TimeZone::get("Europe/Moscow").unwrap();
        for quiet_time in ["2026-11-29T22:00", "2026-11-29T23:59", "2026-11-30T03:00", "2026-11-30T07:59"] {
            assert!(quiet(at(quiet_time), &moscow), "{quiet_time}");
        }
        for day_time in ["2026-11-30T08:00", "2026-11-30T12:00", "2026-11-30T21:59"] {
            assert!(!quiet(at(day_time), &moscow), "{day_time}");
        }
        // 07:30 in Moscow is 10:30 in Novosibirsk: the zone decides.
        let novosibirsk = TimeZone::get("Asia/Novosibirsk").unwrap();
        assert!(!quiet(at("2026-11-30T07:30"), &novosibirsk));
    }
}
