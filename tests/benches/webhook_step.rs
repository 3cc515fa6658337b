//! Benchmark: how long one IVR webhook step takes on SQLite, measured over loopback against the
//! app started in-process (so the figure bounds the server's time from above).
//!
//! `cargo bench --bench webhook_step` (CALLS=… to change the count). Prints p50/p95/p99/max.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hotline::config::Settings;
use hotline::telephony::Dialect;
use hotline::tools::simulator::Caller;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<28} n={:<6} p50={:.2} ms  p95={:.2} ms  p99={:.2} ms  max={:.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.95)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap()),
    );
}

fn main() {
    let calls: usize = std::env::var("CALLS").ok().and_then(|c| c.parse().ok()).unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let values: HashMap<&'static str, String> = [
            ("HOTLINE_DATABASE_URL", format!("sqlite://{}", dir.path().join("bench.db").display())),
            ("HOTLINE_LISTEN", addr.to_string()),
            ("HOTLINE_PUBLIC_URL", format!("http://{addr}")),
        ]
        .into_iter()
        .collect();
        let settings = Settings::from_values(&values).unwrap();
        tokio::spawn(hotline::app::run(settings, listener, std::future::pending()));
        let base = format!("http://{addr}");

        let (mut entry, mut menu_key, mut postcode, mut ticket) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let started = Instant::now();
        for i in 0..calls {
            let mut caller = Caller::new(&base, Dialect::Twilio, &format!("+7910{:07}", i));
            let t = Instant::now();
            caller.dial().await.unwrap();
            entry.push(t.elapsed());
            let t = Instant::now();
            caller.press("2").await.unwrap();
            menu_key.push(t.elapsed());
            let t = Instant::now();
            caller.press("152610").await.unwrap();
            postcode.push(t.elapsed());
            let t = Instant::now();
            caller.press("1").await.unwrap();
            ticket.push(t.elapsed());
        }
        let elapsed = started.elapsed();
        println!("webhook steps on SQLite, one caller at a time, {calls} calls in {:.1} s:", elapsed.as_secs_f64());
        report("entry (new call, menu)", entry);
        report("menu key (location prompt)", menu_key);
        report("postcode lookup", postcode);
        report("ticket created", ticket);
        println!("{:.0} webhooks/s sequentially", (calls * 4) as f64 / elapsed.as_secs_f64());
    });
}
