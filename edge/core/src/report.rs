//! NPS report arithmetic: counts per score and segment, NPS, response rate, and a series per day
//! or ISO week (Monday-start, UTC), empty periods included; the NPS's 95% confidence interval,
//! the too-few-answers flag and the comparison of two periods. Pure: rows come in, figures go
//! out, so both runtimes (SQLite natively, D1 on Cloudflare) share the exact same numbers.

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

/// Below this many answers a period is flagged `low_sample`.
///
/// 30 is the usual floor under which a normal (Wald-type) interval is not trusted, and where
/// the NPS interval stops being too wide to act on: even at 30 answers the 95% margin of the
/// adjusted-Wald interval is ±25 to ±34 points unless most answers agree (±27.5 for a third in
/// each segment, see the tests), and it only widens below. Under it, a move of 20 or 30 points
/// is expected noise, so the report says so rather than letting a reader chase it.
pub const LOW_SAMPLE_THRESHOLD: u64 = 30;

/// The normal quantile of a two-sided 95% interval (and of a 5% two-sided test).
pub const Z_95: f64 = 1.96;

/// A 95% confidence interval of the NPS, on the NPS scale (−100…100, clamped to it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NpsInterval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// The adjusted-Wald estimate of a period's NPS (Rocks 2016, as described by MeasuringU):
/// ¾ of a pseudo-answer is added to the promoters and to the detractors and 3 to the number of
/// answers (so 1½ to the passives), then the usual Wald variance of a difference of two
/// proportions of the same sample is used. Proportions, not percentages.
#[derive(Clone, Copy, Debug, PartialEq)]
struct AdjustedWald {
    /// NPS' = p' − d', −1…1.
    nps: f64,
    /// √(Var / n') with Var = p' + d' − (p' − d')².
    se: f64,
}

/// How a period compares with another one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Change {
    /// NPS of the period − NPS of the other one (the plain point estimates, −200…200).
    pub difference: f64,
    /// Whether the difference is significant at 95%, two-sided: the adjusted-Wald difference
    /// NPS'₁ − NPS'₂ is more than [`Z_95`] × SE_diff away from 0, SE_diff = √(SE₁² + SE₂²)
    /// (independent samples).
    pub significant: bool,
}

impl Counts {
    fn adjusted_wald(&self) -> Option<AdjustedWald> {
        let n = self.total();
        (n > 0).then(|| {
            let n_adj = n as f64 + 3.0;
            let p = (self.segment(Segment::Promoter) as f64 + 0.75) / n_adj;
            let d = (self.segment(Segment::Detractor) as f64 + 0.75) / n_adj;
            let nps = p - d;
            let var = p + d - nps * nps;
            AdjustedWald {
                nps,
                se: (var / n_adj).sqrt(),
            }
        })
    }

    /// 95% confidence interval of the NPS by the adjusted-Wald method, NPS' ± 1.96 × SE, times
    /// 100 and clamped to −100…100; `None` with no responses. Centred on the adjusted NPS', so
    /// not symmetric around [`Counts::nps`] (it leans towards 0, more so with few answers).
    pub fn nps_ci(&self) -> Option<NpsInterval> {
        self.adjusted_wald().map(|a| NpsInterval {
            low: (100.0 * (a.nps - Z_95 * a.se)).clamp(-100.0, 100.0),
            high: (100.0 * (a.nps + Z_95 * a.se)).clamp(-100.0, 100.0),
        })
    }

    /// Fewer than [`LOW_SAMPLE_THRESHOLD`] responses (no responses included).
    pub fn low_sample(&self) -> bool {
        self.total() < LOW_SAMPLE_THRESHOLD
    }
}

/// Compares the counts of a period with those of another one; `None` when either has no
/// responses (no NPS to compare).
pub fn compare(current: &Counts, other: &Counts) -> Option<Change> {
    let (a, b) = (current.adjusted_wald()?, other.adjusted_wald()?);
    let difference = current.nps()? - other.nps()?;
    let se_diff = (a.se * a.se + b.se * b.se).sqrt();
    Some(Change {
        difference,
        significant: (a.nps - b.nps).abs() > Z_95 * se_diff,
    })
}

/// Shown but not answered: `shown − responses`, 0 when answers outnumber `shown` events (a
/// browser that blocked the event still answered).
pub fn non_respondents(shown: u64, responses: u64) -> u64 {
    shown.saturating_sub(responses)
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

    /// Shown but not answered over the period (see [`non_respondents`]).
    pub fn non_respondents(&self) -> u64 {
        non_respondents(self.shown, self.counts.total())
    }
}

impl Bucket {
    /// Shown but not answered in the bucket (see [`non_respondents`]).
    pub fn non_respondents(&self) -> u64 {
        non_respondents(self.shown, self.counts.total())
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
        assert_eq!(s.non_respondents(), 10, "20 shown − 10 answers");
        assert!(s.counts.low_sample());
        assert_eq!(s.series.len(), 7);
        assert_eq!(
            s.series[0].non_respondents(),
            0,
            "10 answers, nothing shown that day"
        );
        assert_eq!(s.series[1].non_respondents(), 20);
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

    /// `promoters` 10s, `passives` 7s and `detractors` 0s.
    fn counts(promoters: u64, passives: u64, detractors: u64) -> Counts {
        let mut c = Counts::default();
        c.by_score[10] = promoters;
        c.by_score[7] = passives;
        c.by_score[0] = detractors;
        c
    }

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() < 1e-9
    }

    /// The adjusted-Wald interval, worked by hand. With P promoters, D detractors and n answers:
    /// n' = n + 3, p' = (P + 0.75)/n', d' = (D + 0.75)/n', NPS' = p' − d' = (P − D)/n',
    /// Var = p' + d' − NPS'², so Var/n' = ((P + D + 1.5)·n' − (P − D)²)/n'³ (exact fractions
    /// below), SE = √(Var/n'), bounds = 100·(NPS' ± 1.96·SE) clamped to ±100. Square roots to
    /// 16 digits with an arbitrary-precision desk calculator (bc), not with this code.
    #[test]
    fn nps_confidence_interval_hand_computed() {
        // n = 0: no answers, no interval; flagged low.
        assert_eq!(Counts::default().nps_ci(), None);
        assert!(Counts::default().low_sample());

        // (promoters, passives, detractors), expected (low, high), NPS, low_sample.
        type Case = ((u64, u64, u64), (f64, f64), f64, bool);
        let table: [Case; 7] = [
            // n = 1, one passive: n' = 4, NPS' = 0, Var/n' = (1.5·4 − 0)/64 = 0.09375,
            // SE = 0.3061862178478973, 1.96·SE = 0.6001249869818786 → ±60.01249869818786.
            (
                (0, 1, 0),
                (-60.01249869818786, 60.01249869818786),
                0.0,
                true,
            ),
            // n = 10, all promoters: n' = 13, NPS' = 10/13 = 0.7692307692307692,
            // Var/n' = (11.5·13 − 100)/2197 = 49.5/2197 = 0.02253072371415567,
            // SE = 0.1501023774433825, 1.96·SE = 0.2942006597890297,
            // low = 100·(0.7692307692307692 − 0.2942006597890297) = 47.50301094417395,
            // high = 106.3431429019799 → clamped to 100.
            ((10, 0, 0), (47.50301094417395, 100.0), 100.0, true),
            // n = 10, 4 promoters, 3 passives, 3 detractors (NPS 10): n' = 13, NPS' = 1/13 =
            // 0.07692307692307692, Var/n' = (8.5·13 − 1)/2197 = 109.5/2197 =
            // 0.04984069185252617, SE = 0.2232502897031181, 1.96·SE = 0.4375705678181115,
            // low = 100·(0.0769230769230769 − 0.4375705678181115) = −36.06474908950346,
            // high = 100·(0.0769230769230769 + 0.4375705678181115) = 51.44936447411885.
            (
                (4, 3, 3),
                (-36.06474908950346, 51.44936447411885),
                10.0,
                true,
            ),
            // n = 5, all detractors: n' = 8, NPS' = −5/8 = −0.625, Var/n' = (6.5·8 − 25)/512 =
            // 27/512 = 0.052734375, SE = 0.2296396633859229, 1.96·SE = 0.4500937402364090,
            // low = −107.5093740236409 → clamped to −100, high = 100·(−0.625 + 0.450093740236409)
            // = −17.4906259763591.
            ((0, 0, 5), (-100.0, -17.4906259763591), -100.0, true),
            // n = 30, a third each (NPS 0), the threshold itself: n' = 33, NPS' = 0,
            // Var/n' = 21.5·33/35937 = 709.5/35937 = 0.01974288337924701,
            // SE = 0.1405093711438743, 1.96·SE = 0.2753983674419936 → ±27.53983674419936.
            (
                (10, 10, 10),
                (-27.53983674419936, 27.53983674419936),
                0.0,
                false,
            ),
            // n = 1000, 500 promoters, 300 passives, 200 detractors (NPS 30): n' = 1003,
            // NPS' = 300/1003 = 0.2991026919242273, 1003³ = 1009027027,
            // Var/n' = (701.5·1003 − 300²)/1009027027 = 613604.5/1009027027 = 0.0006081150292122,
            // SE = 0.02465998842684635, 1.96·SE = 0.04833357731661884,
            // low = 100·(0.2991026919242273 − 0.0483335773166188) = 25.07691146076085,
            // high = 100·(0.2991026919242273 + 0.0483335773166188) = 34.74362692408462.
            (
                (500, 300, 200),
                (25.07691146076085, 34.74362692408462),
                30.0,
                false,
            ),
            // n = 1000, 400 promoters, 350 passives, 250 detractors (NPS 15): NPS' = 150/1003 =
            // 0.1495513459621137, Var/n' = (650.5·1003 − 150²)/1009027027 =
            // 629951.5/1009027027 = 0.0006253098114487, SE = 0.02500619546129894,
            // 1.96·SE = 0.04901214310414593, bounds 10.05392028579677 and 19.85634890662596.
            (
                (400, 350, 250),
                (10.05392028579677, 19.85634890662596),
                15.0,
                false,
            ),
        ];
        for ((p, pa, d), (low, high), nps, low_sample) in table {
            let c = counts(p, pa, d);
            let ci = c.nps_ci().unwrap();
            assert!(close(ci.low, low), "{p}/{pa}/{d}: low {} ≠ {low}", ci.low);
            assert!(
                close(ci.high, high),
                "{p}/{pa}/{d}: high {} ≠ {high}",
                ci.high
            );
            assert!(close(c.nps().unwrap(), nps), "{p}/{pa}/{d}: nps");
            assert_eq!(c.low_sample(), low_sample, "{p}/{pa}/{d}: low_sample");
        }
        assert!(counts(0, 29, 0).low_sample());
        assert!(!counts(0, LOW_SAMPLE_THRESHOLD, 0).low_sample());
    }

    /// Period comparisons worked by hand (same notation as above; SE_diff = √(SE₁² + SE₂²),
    /// significant when |NPS'₁ − NPS'₂| > 1.96·SE_diff).
    #[test]
    fn period_comparison_hand_computed() {
        // 1000 answers each, NPS 30 (500/300/200) against NPS 15 (400/350/250): difference 15.
        // NPS'₁ − NPS'₂ = 300/1003 − 150/1003 = 0.1495513459621137; SE₁² = 0.0006081150292122,
        // SE₂² = 0.0006253098114487, sum 0.0012334248406609, SE_diff = 0.03512014864235178,
        // 1.96·SE_diff = 0.06883549133900949 < 0.1496: significant.
        let c = compare(&counts(500, 300, 200), &counts(400, 350, 250)).unwrap();
        assert!(close(c.difference, 15.0), "{}", c.difference);
        assert!(c.significant);
        // 10 answers each, NPS 10 (4/3/3) against NPS −20 (2/4/4): a 30-point swing.
        // NPS'₁ − NPS'₂ = 1/13 − (−2/13) = 3/13 = 0.2307692307692308; SE₁² = 109.5/2197,
        // SE₂² = (7.5·13 − 4)/2197 = 93.5/2197, sum = 203/2197 = 0.09239872553482021,
        // SE_diff = 0.3039715867228715, 1.96·SE_diff = 0.5957843099768282 > 0.2308: noise.
        let c = compare(&counts(4, 3, 3), &counts(2, 4, 4)).unwrap();
        assert!(close(c.difference, 30.0), "{}", c.difference);
        assert!(!c.significant);
        // 30 promoters against 30 detractors: difference 200. NPS'₁ − NPS'₂ = 30/33 + 30/33 =
        // 1.818181818181818; SE₁² = SE₂² = (31.5·33 − 900)/35937 = 139.5/35937 =
        // 0.003881793137991485, SE_diff = √(279/35937) = 0.08811121538137452,
        // 1.96·SE_diff = 0.1726979821474941: significant. Reversed: −200, still significant.
        let c = compare(&counts(30, 0, 0), &counts(0, 0, 30)).unwrap();
        assert!(close(c.difference, 200.0) && c.significant);
        let c = compare(&counts(0, 0, 30), &counts(30, 0, 0)).unwrap();
        assert!(close(c.difference, -200.0) && c.significant);
        // The same counts: difference 0, not significant.
        let c = compare(&counts(500, 300, 200), &counts(500, 300, 200)).unwrap();
        assert_eq!((c.difference, c.significant), (0.0, false));
        // Either period without answers: nothing to compare.
        assert_eq!(compare(&counts(4, 3, 3), &Counts::default()), None);
        assert_eq!(compare(&Counts::default(), &counts(4, 3, 3)), None);
        assert_eq!(compare(&Counts::default(), &Counts::default()), None);
    }

    #[test]
    fn non_respondents_are_shown_minus_answers_floored() {
        assert_eq!(non_respondents(20, 10), 10);
        assert_eq!(non_respondents(10, 10), 0);
        assert_eq!(non_respondents(3, 5), 0, "answers without a recorded shown");
        assert_eq!(non_respondents(0, 0), 0);
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
            prop_assert_eq!(s.non_respondents(), (shown.len() as u64).saturating_sub(n as u64));
            prop_assert_eq!(s.counts.low_sample(), n < 30);
            match (s.counts.nps_ci(), s.counts.nps()) {
                (None, None) => {}
                (Some(ci), Some(_)) => {
                    prop_assert!(-100.0 <= ci.low && ci.low < ci.high && ci.high <= 100.0);
                    // The interval holds the adjusted estimate 100·(P − D)/(n + 3).
                    let adj = 100.0 * (p - d) as f64 / (n + 3) as f64;
                    prop_assert!(ci.low <= adj && adj <= ci.high);
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }

        #[test]
        fn dates_round_trip(day in -100_000i64..100_000) {
            prop_assert_eq!(day_of_date(&date_of_day(day)), Some(day));
        }
    }
}
