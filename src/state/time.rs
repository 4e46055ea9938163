//! RFC 3339 timestamps in UTC (`2026-11-30T06:40:00.123456789Z`), for the state's
//! `created` and the JSON log lines, without a date crate: days to a civil date is
//! Howard Hinnant's `civil_from_days`, exact for the proleptic Gregorian calendar.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn rfc3339_utc_now() -> String {
    rfc3339_utc(SystemTime::now())
}

pub fn rfc3339_utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_nanos()
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        // date -u -d @1796020800 +%FT%TZ (the contract's example log time)
        let t = UNIX_EPOCH + Duration::new(1_796_020_800, 5);
        assert_eq!(rfc3339_utc(t), "2026-11-30T06:40:00.000000005Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339_utc(t), "2000-02-29T00:00:00.000000000Z");
    }
}
