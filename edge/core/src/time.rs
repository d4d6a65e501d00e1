//! Time formatting without a clock: the runtime passes `now_ms`.

/// `now_ms` (ms since the Unix epoch) as RFC 3339 UTC with milliseconds,
/// e.g. `2026-11-30T02:19:19.123Z`.
pub fn rfc3339_ms(now_ms: u64) -> String {
    let secs = now_ms / 1000;
    let ms = now_ms % 1000;
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day number since the epoch (UTC), e.g. for the daily IP-hash salt.
pub fn day_of(now_ms: u64) -> u64 {
    now_ms / 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_998_759_123), "2026-11-30T00:32:39.123Z");
        assert!(nps_protocol::validate::is_rfc3339(&rfc3339_ms(
            4_102_444_799_999
        )));
    }
}
