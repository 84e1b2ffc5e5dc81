//! Values written for people.

use std::time::Duration;

/// Formats a duration for people: `850ms`, `2.5s`, `1m 30s`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(tend::humanize::duration(Duration::from_millis(850)), "850ms");
/// assert_eq!(tend::humanize::duration(Duration::from_millis(2500)), "2.5s");
/// assert_eq!(tend::humanize::duration(Duration::from_secs(90)), "1m 30s");
/// ```
pub fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}
