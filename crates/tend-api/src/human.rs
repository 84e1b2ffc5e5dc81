//! Durations for people.

use std::time::Duration;

/// A duration for people: `250ms` under a second, `2.5s` under a minute, else whole seconds
/// in humantime's words (`1m 30s`, `2h 5m`).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(tend_api::human(Duration::from_millis(250)), "250ms");
/// assert_eq!(tend_api::human(Duration::from_millis(2500)), "2.5s");
/// assert_eq!(tend_api::human(Duration::from_secs(90)), "1m 30s");
/// ```
pub fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}
