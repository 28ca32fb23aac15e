//! How times and counts read on pages. Times are shown in UTC until users'
//! timezones are applied (the `users.timezone` column is ready for it).

use time::{OffsetDateTime, macros::format_description};

/// "7/22/2025, 10:08", as in the seed screens.
pub fn datetime(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
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
}
