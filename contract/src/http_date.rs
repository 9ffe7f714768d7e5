//! HTTP dates (RFC 9110 IMF-fixdate), as providers send them in `Retry-After`.

/// Month abbreviations in IMF-fixdate order.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, any letter case) as Unix seconds. `None`
/// for any other shape, a year outside 1970..=9999, or a day, hour, minute or second out of
/// range. The weekday is not checked: providers get it wrong and it carries no information.
pub fn http_date(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if !zone.eq_ignore_ascii_case("gmt") {
        return None;
    }
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u64 + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    // Providers' dates are after 1970 and shaped as dates; anything else is ignored, and no
    // field can overflow the arithmetic below.
    if !(1970..=9999).contains(&year) || !(1..=31).contains(&day) {
        return None;
    }
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    // 60 seconds: a leap second is a valid time of day.
    if *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), for years from 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    // Count years from March, so the leap day is the last day of the year.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_imf_fixdates_in_any_case() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            http_date("sun, 06 nov 1994 08:49:37 gmt"),
            Some(784_111_777)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        // Leap years: 2000 is one, 2100 is not.
        assert_eq!(
            http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            http_date("Wed, 01 Mar 2000 00:00:00 GMT"),
            Some(951_868_800)
        );
        assert_eq!(
            http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
    }

    #[test]
    fn refuses_shapes_that_would_overflow_or_underflow() {
        // Never a panic: every field is range-checked before the arithmetic.
        assert_eq!(http_date("sun, 06 jan 0 08:49:37 gmt"), None);
        assert_eq!(http_date("sun, 06 jan 1969 08:49:37 gmt"), None);
        assert_eq!(http_date("sun, 06 jan 10000 08:49:37 gmt"), None);
        assert_eq!(http_date("sun, 06 jan 2026 99999999999999:0:0 gmt"), None);
        assert_eq!(
            http_date("sun, 06 jan 2026 99999999999999999999999:0:0 gmt"),
            None
        );
        assert_eq!(http_date("sun, 99 jan 2026 01:00:00 gmt"), None);
        assert_eq!(http_date("sun, 00 jan 2026 01:00:00 gmt"), None);
    }

    #[test]
    fn refuses_out_of_range_times_and_other_shapes() {
        for value in [
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08:49:37:00 GMT",
            "Sun, 06 Nov 1994 -1:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "",
        ] {
            assert_eq!(http_date(value), None, "{value:?}");
        }
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:60 GMT"),
            Some(784_111_800)
        );
    }
}
