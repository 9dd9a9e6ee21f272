//! Timestamps at the edge of the log, in its whole range 1970-01-01T00:00:00Z ..=
//! 9999-12-31T23:59:59.999999Z ([`TS_MIN`](crate::TS_MIN)..=[`TS_MAX`](crate::TS_MAX)).
//!
//! Every importer reads its timestamps through [`parse_log_ts`] and every exporter writes them
//! through [`format_log_ts`], so that what an export writes an import reads back, and a value past
//! either end is called out of range: a 5-digit year is not RFC 3339 at all, and "not an RFC 3339
//! timestamp" would send a user looking for a typo.

use crate::event::{check_ts, format_ts, parse_ts, Micros};
#[cfg(test)]
use crate::event::{TS_MAX, TS_MIN};

/// Parses an RFC 3339 / ISO 8601 timestamp (no offset means UTC) and checks that it lies in the
/// log's range. The error says whether the text is malformed or only out of range.
pub(crate) fn parse_log_ts(s: &str) -> Result<Micros, String> {
    let s = s.trim();
    if let Some(ts) = parse_common_rfc3339(s.as_bytes()) {
        return Ok(ts);
    }
    parse_log_ts_general(s)
}

/// The general path of [`parse_log_ts`]: jiff, then the error messages.
fn parse_log_ts_general(s: &str) -> Result<Micros, String> {
    let ts = parse_ts(s).map_err(|malformed| out_of_range_year(s).unwrap_or(malformed))?;
    check_ts(ts).map_err(|m| format!("{s:?}: {m}"))
}

/// The shapes recorders and our own exporter write, parsed without jiff: jiff is exact but its
/// general parser took a third of an import's parsing time. `YYYY-MM-DDTHH:MM:SS`, an optional
/// `.` with 1 to 9 digits, then `Z`, `z`, nothing (UTC) or `±HH:MM`. Returns `None` for anything
/// else, including values jiff treats specially (a leap second, which it clamps) and results
/// outside the log's range, so that the general path decides and words the error; where it
/// returns a value it is the one jiff gives (checked by proptest below).
fn parse_common_rfc3339(b: &[u8]) -> Option<Micros> {
    if b.len() < 19 {
        return None;
    }
    let digits = |from: usize, n: usize| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(from..from + n)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let n = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        // Digits past the sixth are below a microsecond: jiff keeps them as nanoseconds and
        // `as_microsecond` truncates them, which for a time after 1970 is this.
        for k in 0..6 {
            let d = if k < n {
                i64::from(b[start + k] - b'0')
            } else {
                0
            };
            micros = micros * 10 + d;
        }
        i = start + n;
    }
    let offset_s = match &b[i..] {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = digits(i + 1, 2)?;
            let m = digits(i + 4, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let s = h * 3600 + m * 60;
            if *sign == b'-' {
                -s
            } else {
                s
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    if secs < 0 {
        return None;
    }
    let ts = secs * 1_000_000 + micros;
    check_ts(ts).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The message for a date whose year has more than four digits (or a sign), which is well formed
/// in ISO 8601's expanded form but outside what the log holds.
fn out_of_range_year(s: &str) -> Option<String> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if rest.as_bytes().get(digits) != Some(&b'-') || digits < 4 || (digits == 4 && !negative) {
        return None;
    }
    let year = &rest[..digits];
    Some(if negative {
        format!("{s:?}: year -{year} is before 1970, the earliest the log holds (years 1970–9999)")
    } else {
        format!("{s:?}: year {year} is after 9999, the latest the log holds (years 1970–9999)")
    })
}

/// Formats a timestamp of the log's range as RFC 3339 with microseconds, the last day included;
/// refuses one outside the range, which no importer would read back.
pub(crate) fn format_log_ts(ts: Micros) -> Result<String, String> {
    check_ts(ts)?;
    Ok(format_ts(ts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_range_parses_and_formats_and_nothing_beyond() {
        assert_eq!(parse_log_ts("9999-12-31T23:59:59.999999Z"), Ok(TS_MAX));
        assert_eq!(parse_log_ts("9999-12-31T23:59:59.999999"), Ok(TS_MAX));
        // 23:00 at 59 minutes behind UTC is 23:59 UTC.
        assert_eq!(
            parse_log_ts("9999-12-31T23:00:00-00:59"),
            Ok(TS_MAX - 59_999_999)
        );
        assert_eq!(parse_log_ts("1970-01-01T00:00:00Z"), Ok(TS_MIN));
        assert_eq!(
            format_log_ts(TS_MAX).unwrap(),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(parse_log_ts(&format_log_ts(TS_MAX).unwrap()), Ok(TS_MAX));
        let t = parse_ts("2024-03-01T12:00:00.5Z").unwrap();
        assert_eq!(parse_log_ts(&format_log_ts(t).unwrap()), Ok(t));
        assert!(format_log_ts(TS_MAX + 1)
            .unwrap_err()
            .contains("after 9999"));
        assert!(format_log_ts(-1).unwrap_err().contains("before 1970"));
    }

    proptest::proptest! {
        /// The fast path gives what jiff gives, on the shapes it takes and on near misses (bad
        /// days, hours, leap seconds, offsets, long fractions, other separators).
        #[test]
        fn the_fast_path_agrees_with_jiff(
            year in proptest::prop_oneof![1969i64..=1971, 1999i64..=2101, 9998i64..=9999],
            month in 0i64..=13,
            day in 0i64..=32,
            hour in 0i64..=24,
            minute in 0i64..=60,
            second in 0i64..=60,
            frac in proptest::option::of("[0-9]{0,10}"),
            offset in proptest::prop_oneof![
                proptest::strategy::Just(String::new()),
                proptest::strategy::Just("Z".to_owned()),
                proptest::strategy::Just("z".to_owned()),
                "[+-](0[0-9]|1[0-9]|2[0-6]):[0-6][0-9]",
                "[+-][0-9]{4}",
            ],
            sep in proptest::prop_oneof![
                proptest::strategy::Just('T'),
                proptest::strategy::Just('t'),
                proptest::strategy::Just(' '),
            ],
        ) {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let s = format!(
                "{year:04}-{month:02}-{day:02}{sep}{hour:02}:{minute:02}:{second:02}{frac}{offset}"
            );
            let general = parse_log_ts_general(&s);
            if let Some(fast) = parse_common_rfc3339(s.as_bytes()) {
                proptest::prop_assert_eq!(Ok(fast), general.clone(), "{}", s);
            }
            proptest::prop_assert_eq!(parse_log_ts(&s), general, "{}", s);
        }

        #[test]
        fn the_fast_path_agrees_with_jiff_on_exported_times(ts in TS_MIN..=TS_MAX) {
            let s = format_log_ts(ts).unwrap();
            proptest::prop_assert_eq!(parse_common_rfc3339(s.as_bytes()), Some(ts));
            proptest::prop_assert_eq!(parse_log_ts_general(&s), Ok(ts));
        }
    }

    #[test]
    fn out_of_range_values_are_called_out_of_range_not_malformed() {
        for s in [
            "10000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "+275760-09-13T00:00:00Z",
        ] {
            let m = parse_log_ts(s).unwrap_err();
            assert!(
                m.contains("after 9999") && !m.contains("not an RFC"),
                "{s}: {m}"
            );
        }
        let m = parse_log_ts("1969-12-31T23:59:59Z").unwrap_err();
        assert!(m.contains("before 1970"), "{m}");
        let m = parse_log_ts("-000001-01-01T00:00:00Z").unwrap_err();
        assert!(m.contains("before 1970"), "{m}");
        let m = parse_log_ts("9999-12-31T23:59:59.999999-01:00").unwrap_err();
        assert!(m.contains("after 9999"), "{m}");
        let m = parse_log_ts("yesterday").unwrap_err();
        assert!(m.contains("not an RFC 3339"), "{m}");
        assert!(parse_log_ts("123456").is_err());
    }
}
