//! How times and counts read on pages. Times read in the viewer's timezone:
//! `web::tenant::enter_tenant` runs each signed-in request inside
//! [`in_timezone`] (the user's choice, else the helpdesk's default), and
//! [`datetime`] formats in it; guests' ticket pages use the helpdesk's
//! default ([`with_timezone`]); anything else (sign-in pages, mail, jobs)
//! reads UTC.

use std::future::Future;
use time::{OffsetDateTime, UtcOffset, macros::format_description};

tokio::task_local! {
    static VIEWER_TZ: jiff::tz::TimeZone;
}

/// Runs `work` with dates formatted in the timezone called `name` (an IANA
/// name; an unknown one reads UTC).
pub async fn in_timezone<F: Future>(name: &str, work: F) -> F::Output {
    let zone = jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC);
    VIEWER_TZ.scope(zone, work).await
}

/// [`in_timezone`] for synchronous work (rendering a page's view).
pub fn with_timezone<R>(name: &str, work: impl FnOnce() -> R) -> R {
    let zone = jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC);
    VIEWER_TZ.sync_scope(zone, work)
}

/// Whether `name` is a timezone dates can be shown in.
pub fn is_timezone(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && jiff::tz::TimeZone::get(name).is_ok()
}

/// The viewer's UTC offset at `at` (daylight saving time included).
fn viewer_offset(at: OffsetDateTime) -> UtcOffset {
    VIEWER_TZ
        .try_with(|zone| {
            let ts = jiff::Timestamp::from_second(at.unix_timestamp()).ok()?;
            UtcOffset::from_whole_seconds(zone.to_offset(ts).seconds()).ok()
        })
        .ok()
        .flatten()
        .unwrap_or(UtcOffset::UTC)
}

/// "7/22/2025, 10:08", as in the seed screens, in the viewer's timezone.
pub fn datetime(at: OffsetDateTime) -> String {
    at.to_offset(viewer_offset(at))
        .format(format_description!(
            "[month padding:none]/[day padding:none]/[year], [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// ISO 8601 for `<time datetime="…">`.
pub fn iso(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// "1,234".
pub fn count(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_and_counts_read_like_the_seed_screens() {
        assert_eq!(
            datetime(datetime!(2025-07-22 10:08 UTC)),
            "7/22/2025, 10:08"
        );
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(999), "999");
        assert_eq!(count(1234567), "1,234,567");
    }

    #[tokio::test]
    async fn times_read_in_the_viewers_timezone_with_daylight_saving() {
        let winter = datetime!(2026-01-15 12:00 UTC);
        let summer = datetime!(2026-07-15 12:00 UTC);
        let berlin = in_timezone("Europe/Berlin", async {
            (datetime(winter), datetime(summer))
        });
        assert_eq!(
            berlin.await,
            ("1/15/2026, 13:00".to_owned(), "7/15/2026, 14:00".to_owned())
        );
        let kolkata = in_timezone("Asia/Kolkata", async { datetime(winter) }).await;
        assert_eq!(kolkata, "1/15/2026, 17:30");
        assert_eq!(
            in_timezone("Mars/Olympus", async { datetime(winter) }).await,
            "1/15/2026, 12:00"
        );
        assert!(
            is_timezone("America/New_York") && !is_timezone("Mars/Olympus") && !is_timezone("")
        );
    }
}
