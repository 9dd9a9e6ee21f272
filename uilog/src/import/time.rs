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
    let ts = parse_ts(s).map_err(|malformed| out_of_range_year(s).unwrap_or(malformed))?;
    check_ts(ts).map_err(|m| format!("{s:?}: {m}"))
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
