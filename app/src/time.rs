//! Timestamps as people and APIs read them, without a calendar library.

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Midnight UTC of a `YYYY-MM-DD` date, in milliseconds since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && civil_from_days(days_from_civil(year, month, day)) == (year, month, day);
    valid.then(|| days_from_civil(year, month, day) * DAY_MS)
}

/// Splits milliseconds since the epoch into date and time of day (UTC).
fn parts(ms: i64) -> ((i64, i64, i64), i64, i64) {
    let date = civil_from_days(ms.div_euclid(DAY_MS));
    let in_day = ms.rem_euclid(DAY_MS);
    (date, in_day / 1000, in_day % 1000)
}

/// `2026-11-23T15:20:05.093Z`
pub fn rfc3339(ms: i64) -> String {
    let ((year, month, day), seconds, millis) = parts(ms);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// `2026-11-23 15:20 UTC`, the console's short form.
pub fn short_utc(ms: i64) -> String {
    let ((year, month, day), seconds, _) = parts(ms);
    format!(
        "{year}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60
    )
}

/// `15:20:05 UTC`, for times within the hour.
pub fn clock_utc(ms: i64) -> String {
    let (_, seconds, _) = parts(ms);
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_447_205_093), "2026-11-23T15:20:05.093Z");
        assert_eq!(short_utc(1_795_447_205_093), "2026-11-23 15:20 UTC");
        assert_eq!(clock_utc(1_795_447_205_093), "15:20:05 UTC");
        assert_eq!(short_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("soon"), None);
    }
}
