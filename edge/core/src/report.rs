//! NPS report arithmetic: counts per score and segment, NPS, response rate, and a series per day
//! or ISO week (Monday-start, UTC), empty periods included. Pure: rows come in, figures go out,
//! so both runtimes (SQLite natively, D1 on Cloudflare) share the exact same numbers.

use nps_protocol::Segment;

const DAY_MS: i64 = 86_400_000;

/// Width of one bucket of the series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// Calendar day, UTC.
    Day,
    /// ISO week (Monday to Sunday), UTC.
    Week,
}

impl Interval {
    /// Parses `day` or `week`.
    pub fn parse(s: &str) -> Option<Interval> {
        match s {
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            _ => None,
        }
    }

    /// First day (days since 1970-01-01) of the bucket holding `day`.
    fn bucket_start(self, day: i64) -> i64 {
        match self {
            Interval::Day => day,
            // 1970-01-01 was a Thursday: shift so that Mondays are multiples of 7.
            Interval::Week => (day + 3).div_euclid(7) * 7 - 3,
        }
    }

    fn len_days(self) -> i64 {
        match self {
            Interval::Day => 1,
            Interval::Week => 7,
        }
    }
}

/// Responses per score (index = score 0..=10).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `by_score[s]` = number of responses with score `s`.
    pub by_score: [u64; 11],
}

impl Counts {
    /// Adds one response.
    pub fn add(&mut self, score: u8) {
        if let Some(c) = self.by_score.get_mut(usize::from(score)) {
            *c += 1;
        }
    }

    /// Total responses.
    pub fn total(&self) -> u64 {
        self.by_score.iter().sum()
    }

    /// Responses in one segment.
    pub fn segment(&self, seg: Segment) -> u64 {
        (0u8..=10)
            .filter(|s| Segment::of(*s) == Some(seg))
            .map(|s| self.by_score[usize::from(s)])
            .sum()
    }

    /// Net Promoter Score: % promoters − % detractors, from −100 to 100; `None` with no responses.
    pub fn nps(&self) -> Option<f64> {
        let n = self.total();
        (n > 0).then(|| {
            let p = self.segment(Segment::Promoter) as f64;
            let d = self.segment(Segment::Detractor) as f64;
            100.0 * (p - d) / n as f64
        })
    }
}

/// One bucket of the series.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// First day of the bucket, `YYYY-MM-DD`.
    pub start: String,
    /// Responses in the bucket.
    pub counts: Counts,
    /// `shown` events in the bucket.
    pub shown: u64,
    /// `dismissed` events in the bucket.
    pub dismissed: u64,
}

/// The whole report for one period.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Responses per score over the period.
    pub counts: Counts,
    /// `shown` events over the period.
    pub shown: u64,
    /// `dismissed` events over the period.
    pub dismissed: u64,
    /// Series, one bucket per interval from `from` to `to`, empty ones included.
    pub series: Vec<Bucket>,
}

impl Summary {
    /// Responses ÷ shown, from 0 to 1 (capped: answers without a recorded `shown` exist when a
    /// visitor's browser blocked the event); `None` when nothing was shown.
    pub fn response_rate(&self) -> Option<f64> {
        (self.shown > 0).then(|| (self.counts.total() as f64 / self.shown as f64).min(1.0))
    }
}

/// What happened, with its time in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug)]
pub enum Row {
    /// A response (its latest revision) and its score.
    Response {
        /// Receive time.
        at_ms: i64,
        /// 0–10.
        score: u8,
    },
    /// A `shown` event.
    Shown {
        /// Receive time.
        at_ms: i64,
    },
    /// A `dismissed` event.
    Dismissed {
        /// Receive time.
        at_ms: i64,
    },
}

/// Summarises rows between the days `from` and `to` (inclusive, days since epoch, UTC).
/// Rows outside the range are ignored. Returns `None` if `to < from` or the range is over
/// [`MAX_BUCKETS`] buckets.
pub fn summarize(
    rows: impl IntoIterator<Item = Row>,
    from: i64,
    to: i64,
    interval: Interval,
) -> Option<Summary> {
    if to < from {
        return None;
    }
    let first = interval.bucket_start(from);
    let n = ((interval.bucket_start(to) - first) / interval.len_days() + 1) as usize;
    if n > MAX_BUCKETS {
        return None;
    }
    let mut series: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: date_of_day(first + i as i64 * interval.len_days()),
            counts: Counts::default(),
            shown: 0,
            dismissed: 0,
        })
        .collect();
    let mut total = Summary {
        counts: Counts::default(),
        shown: 0,
        dismissed: 0,
        series: Vec::new(),
    };
    for row in rows {
        let at = match row {
            Row::Response { at_ms, .. } | Row::Shown { at_ms } | Row::Dismissed { at_ms } => at_ms,
        };
        let day = at.div_euclid(DAY_MS);
        if day < from || day > to {
            continue;
        }
        let b = &mut series[((interval.bucket_start(day) - first) / interval.len_days()) as usize];
        match row {
            Row::Response { score, .. } => {
                b.counts.add(score);
                total.counts.add(score);
            }
            Row::Shown { .. } => {
                b.shown += 1;
                total.shown += 1;
            }
            Row::Dismissed { .. } => {
                b.dismissed += 1;
                total.dismissed += 1;
            }
        }
    }
    total.series = series;
    Some(total)
}

/// Most buckets one report may hold (about 10 years of days).
pub const MAX_BUCKETS: usize = 3700;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn day_of_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (public domain), proleptic Gregorian.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(date: &str, hour: i64) -> i64 {
        day_of_date(date).unwrap() * DAY_MS + hour * 3_600_000
    }

    /// A hand-checked week: 10 answers, 4 promoters, 3 passives, 3 detractors → NPS +10.
    #[test]
    fn hand_checked_dataset() {
        let mut rows: Vec<Row> = [10, 9, 9, 10, 7, 8, 8, 0, 6, 3]
            .iter()
            .enumerate()
            .map(|(i, &score)| Row::Response {
                at_ms: at("2026-11-23", i as i64),
                score,
            })
            .collect();
        rows.extend((0..20).map(|_| Row::Shown {
            at_ms: at("2026-11-24", 1),
        }));
        rows.extend((0..4).map(|_| Row::Dismissed {
            at_ms: at("2026-11-25", 1),
        }));
        rows.push(Row::Response {
            at_ms: at("2026-11-30", 0),
            score: 10,
        }); // outside the range
        let s = summarize(
            rows,
            day_of_date("2026-11-23").unwrap(),
            day_of_date("2026-11-29").unwrap(),
            Interval::Day,
        )
        .unwrap();
        assert_eq!(s.counts.total(), 10);
        assert_eq!(s.counts.segment(Segment::Promoter), 4);
        assert_eq!(s.counts.segment(Segment::Passive), 3);
        assert_eq!(s.counts.segment(Segment::Detractor), 3);
        assert_eq!(s.counts.nps(), Some(10.0));
        assert_eq!((s.shown, s.dismissed), (20, 4));
        assert_eq!(s.response_rate(), Some(0.5));
        assert_eq!(s.series.len(), 7);
        assert_eq!(s.series[0].start, "2026-11-23");
        assert_eq!(s.series[0].counts.nps(), Some(10.0));
        assert_eq!(s.series[1].counts.nps(), None, "empty day has no NPS");
        assert_eq!(s.series[1].shown, 20);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-25 is a Wednesday; its ISO week starts Monday 2026-11-23.
        let s = summarize(
            [],
            day_of_date("2026-11-25").unwrap(),
            day_of_date("2026-12-07").unwrap(),
            Interval::Week,
        )
        .unwrap();
        let starts: Vec<_> = s.series.iter().map(|b| b.start.as_str()).collect();
        assert_eq!(starts, ["2026-11-23", "2026-11-30", "2026-12-07"]);
        assert_eq!(s.counts.nps(), None);
        assert_eq!(s.response_rate(), None);
    }

    #[test]
    fn dates() {
        assert_eq!(day_of_date("1970-01-01"), Some(0));
        assert_eq!(
            day_of_date("2000-02-29").map(date_of_day).as_deref(),
            Some("2000-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "20261101",
            "2026-11-00",
            "+026-11-01",
        ] {
            assert_eq!(day_of_date(bad), None, "{bad}");
        }
        assert!(summarize([], 10, 9, Interval::Day).is_none());
        assert!(summarize([], 0, MAX_BUCKETS as i64, Interval::Day).is_none());
    }

    proptest! {
        #[test]
        fn figures_are_exact(
            answers in prop::collection::vec((0i64..60, 0u8..=10), 0..300),
            shown in prop::collection::vec(0i64..60, 0..300),
            week in any::<bool>(),
        ) {
            let base = day_of_date("2026-01-01").unwrap();
            let interval = if week { Interval::Week } else { Interval::Day };
            let rows = answers.iter().map(|&(d, score)| Row::Response { at_ms: (base + d) * DAY_MS + 5, score })
                .chain(shown.iter().map(|&d| Row::Shown { at_ms: (base + d) * DAY_MS }));
            let s = summarize(rows, base, base + 59, interval).unwrap();
            let n = answers.len() as i64;
            let p = answers.iter().filter(|a| a.1 >= 9).count() as i64;
            let d = answers.iter().filter(|a| a.1 <= 6).count() as i64;
            prop_assert_eq!(s.counts.total() as i64, n);
            match s.counts.nps() {
                None => prop_assert_eq!(n, 0),
                Some(v) => {
                    prop_assert!((-100.0..=100.0).contains(&v));
                    // Exact up to float rounding of one division.
                    prop_assert!((v * n as f64 - 100.0 * (p - d) as f64).abs() < 1e-6);
                }
            }
            // Buckets partition the totals, and cover the range without gaps.
            prop_assert_eq!(s.series.iter().map(|b| b.counts.total()).sum::<u64>(), n as u64);
            prop_assert_eq!(s.series.iter().map(|b| b.shown).sum::<u64>(), shown.len() as u64);
            for w in s.series.windows(2) {
                let step = day_of_date(&w[1].start).unwrap() - day_of_date(&w[0].start).unwrap();
                prop_assert_eq!(step, if week { 7 } else { 1 });
            }
            if let Some(r) = s.response_rate() { prop_assert!((0.0..=1.0).contains(&r)); }
        }

        #[test]
        fn dates_round_trip(day in -100_000i64..100_000) {
            prop_assert_eq!(day_of_date(&date_of_day(day)), Some(day));
        }
    }
}
