//! Score → segment: the one rule every part of the product uses.

use crate::limits::MAX_SCORE;

/// NPS segment of a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// 0–6: unhappy; may damage the brand.
    Detractor,
    /// 7–8: satisfied but unenthusiastic.
    Passive,
    /// 9–10: loyal enthusiasts.
    Promoter,
}

impl Segment {
    /// All segments, in scale order.
    pub const ALL: [Segment; 3] = [Segment::Detractor, Segment::Passive, Segment::Promoter];

    /// Segment of a score, or `None` when the score is off the 0–10 scale.
    pub fn of(score: u8) -> Option<Segment> {
        match score {
            0..=6 => Some(Segment::Detractor),
            7..=8 => Some(Segment::Passive),
            9..=MAX_SCORE => Some(Segment::Promoter),
            _ => None,
        }
    }

    /// Wire name: `detractor`, `passive` or `promoter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Detractor => "detractor",
            Segment::Passive => "passive",
            Segment::Promoter => "promoter",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|seg| seg.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(Segment::of(0), Some(Segment::Detractor));
        assert_eq!(Segment::of(6), Some(Segment::Detractor));
        assert_eq!(Segment::of(7), Some(Segment::Passive));
        assert_eq!(Segment::of(8), Some(Segment::Passive));
        assert_eq!(Segment::of(9), Some(Segment::Promoter));
        assert_eq!(Segment::of(10), Some(Segment::Promoter));
        assert_eq!(Segment::of(11), None);
        assert_eq!(Segment::of(255), None);
    }

    #[test]
    fn names_round_trip() {
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()), Some(s));
        }
        assert_eq!(Segment::parse("Promoter"), None);
    }
}
