//! Routing: which sinks receive a response (e.g. a webhook for detractors only).

use nps_protocol::{Response, Segment};

use crate::config::{Config, SinkConfig};

/// A sink's filter. Each empty list means "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// Segments to deliver.
    pub segments: Vec<Segment>,
    /// Survey ids to deliver.
    pub surveys: Vec<String>,
    /// Site ids to deliver.
    pub sites: Vec<String>,
}

impl Route {
    /// True when a response with these attributes passes the filter.
    pub fn matches(&self, site: &str, survey: &str, segment: Option<Segment>) -> bool {
        (self.sites.is_empty() || self.sites.iter().any(|s| s == site))
            && (self.surveys.is_empty() || self.surveys.iter().any(|s| s == survey))
            && (self.segments.is_empty() || segment.is_some_and(|g| self.segments.contains(&g)))
    }

    /// [`Route::matches`] for a response.
    pub fn matches_response(&self, r: &Response) -> bool {
        self.matches(&r.site, &r.survey, r.segment())
    }
}

/// The delivery sinks that want `r` (the store takes every response).
pub fn sinks_for<'a>(
    config: &'a Config,
    r: &'a Response,
) -> impl Iterator<Item = &'a SinkConfig> + 'a {
    config
        .sinks
        .iter()
        .filter(move |s| s.takes_answers() && s.route().matches_response(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_combine() {
        let route = Route {
            segments: vec![Segment::Detractor],
            surveys: vec!["checkout".into()],
            sites: vec![],
        };
        assert!(route.matches("demo", "checkout", Some(Segment::Detractor)));
        assert!(!route.matches("demo", "checkout", Some(Segment::Promoter)));
        assert!(!route.matches("demo", "onboarding", Some(Segment::Detractor)));
        assert!(Route::default().matches("x", "y", None));
    }

    #[test]
    fn sinks_are_routed_by_segment() {
        let mut c = Config::demo();
        c.sinks.push(SinkConfig::Stdout {
            name: "out".into(),
            segments: vec!["promoter".into()],
            surveys: vec![],
            sites: vec![],
        });
        let mut r = Response {
            site: "demo".into(),
            survey: "s".into(),
            score: 10,
            ..Default::default()
        };
        assert_eq!(
            sinks_for(&c, &r).map(|s| s.name()).collect::<Vec<_>>(),
            vec!["out"]
        );
        r.score = 0;
        assert_eq!(sinks_for(&c, &r).count(), 0);
    }
}
