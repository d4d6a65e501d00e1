//! What the edge says about cases to other systems: the `nps.case.*` webhooks after each change
//! (and, from the periodic sweep, those whose handing-on failed), and the one overdue alert per
//! case that the periodic sweep sends to the chat.

use nps_edge_core::case_notice::{self, CaseEvent};
use nps_edge_core::cases::Case;

use crate::backend::{Backend, BackendError, Rows, SqlValue};
use crate::store::{
    case_of_row, notice_of_row, MARK_OVERDUE_ALERTED, NOTICE_GIVEN, ONE_CASE, OVERDUE_UNALERTED,
    OWED_NOTICES,
};
use crate::App;

/// Overdue cases alerted per site and sweep (the next sweep takes the rest).
const OVERDUE_BATCH: i64 = 100;

/// Owed case messages handed on per site and sweep (the next sweep takes the rest).
const NOTICE_BATCH: i64 = 100;

/// How old an owed message must be before the sweep hands it on: a change being made right now
/// hands on its own, in milliseconds.
const NOTICE_GRACE_MS: u64 = 60_000;

/// Reads a case (`None` when it is not in the store: a runtime without one, or not written yet).
pub(crate) async fn read_case<B: Backend>(
    app: &App<B>,
    site: &str,
    id: &str,
) -> Result<Option<Case>, BackendError> {
    let params = vec![SqlValue::Text(site.into()), SqlValue::Text(id.into())];
    match app.backend().query(ONE_CASE, params).await {
        Ok(rows) => Ok(rows.first().and_then(|r| case_of_row(r))),
        Err(BackendError::NoStore) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Hands `nps.case.<event>` to the site's webhook and stdout sinks that take this case.
pub(crate) async fn announce<B: Backend>(
    app: &App<B>,
    site: &str,
    event: CaseEvent,
    case: &Case,
) -> Result<(), BackendError> {
    let sinks =
        case_notice::notice_sinks(app.config(), site, Some(&case.survey), Some(case.segment()));
    if sinks.is_empty() {
        return Ok(());
    }
    let now = app.backend().now_ms();
    app.backend()
        .notify(
            site,
            sinks,
            case_notice::case_msg_id(event, site, case),
            case_notice::case_payload(event, site, case, now),
        )
        .await
}

/// Hands on the message a team's change owes (`event` for the case as it is now, the change
/// made at `at` ms), then records it as given. A crash in between repeats the message, with the
/// same `webhook-id`, rather than losing it.
pub(crate) async fn give_notice<B: Backend>(
    app: &App<B>,
    site: &str,
    event: CaseEvent,
    case: &Case,
    at: i64,
) -> Result<(), BackendError> {
    announce(app, site, event, case).await?;
    let params = vec![
        SqlValue::Text(site.into()),
        SqlValue::Text(case.id.clone()),
        SqlValue::Int(at),
    ];
    app.backend().execute(NOTICE_GIVEN, params).await?;
    Ok(())
}

/// Whether some sink would hear about this site's cases (so that nobody pays a read otherwise).
pub(crate) fn anyone_listens<B: Backend>(app: &App<B>, site: &str) -> bool {
    !case_notice::notice_sinks(app.config(), site, None, None).is_empty()
}

impl<B: Backend> App<B> {
    /// The rows of a sweep's statement for one site (site `?1`, a time `?2`, at most `?3`);
    /// `None` for a runtime without a response store.
    async fn sweep_rows(
        &self,
        sql: &'static str,
        site: &str,
        at_ms: u64,
        most: i64,
    ) -> Result<Option<Rows>, BackendError> {
        let params = vec![
            SqlValue::Text(site.into()),
            SqlValue::Int(at_ms as i64),
            SqlValue::Int(most),
        ];
        match self.backend.query(sql, params).await {
            Err(BackendError::NoStore) => Ok(None),
            r => r.map(Some),
        }
    }

    /// Hands on the case messages that team changes owe and that were not handed on when the
    /// change was made (a crash, the sinks' store down): those older than [`NOTICE_GRACE_MS`].
    /// The runtimes call it with the overdue sweep. Returns the number handed on.
    pub async fn sweep_case_notices(&self) -> Result<u64, BackendError> {
        let before = self.backend.now_ms().saturating_sub(NOTICE_GRACE_MS);
        let mut given = 0;
        for site in self.config.sites.iter().filter(|s| s.cases.enabled) {
            let Some(rows) = self
                .sweep_rows(OWED_NOTICES, &site.id, before, NOTICE_BATCH)
                .await?
            else {
                return Ok(0);
            };
            for row in rows.iter() {
                let (Some(case), Some((event, at))) = (case_of_row(row), notice_of_row(row)) else {
                    continue;
                };
                give_notice(self, &site.id, event, &case, at).await?;
                tracing::info!(site = %site.id, case = %case.id, kind = event.as_str(), "owed case webhook handed on");
                given += 1;
            }
        }
        Ok(given)
    }

    /// One overdue alert per case past its due time without a first touch, to the chat sinks
    /// that alert on its answer. The alert is handed to the sinks before the case is marked, so
    /// a crash in between repeats an alert rather than losing one. The runtimes call it every
    /// minute natively, at each cron trigger on the worker. Returns the number of cases alerted.
    pub async fn sweep_overdue(&self) -> Result<u64, BackendError> {
        let now = self.backend.now_ms();
        let mut alerted = 0;
        for site in self.config.sites.iter().filter(|s| s.cases.enabled) {
            let any_chat = self.config.sinks.iter().any(|s| {
                matches!(s, nps_edge_core::config::SinkConfig::Alert(a)
                    if a.sites.is_empty() || a.sites.contains(&site.id))
            });
            if !any_chat {
                continue;
            }
            let Some(rows) = self
                .sweep_rows(OVERDUE_UNALERTED, &site.id, now, OVERDUE_BATCH)
                .await?
            else {
                return Ok(0);
            };
            for case in rows.iter().filter_map(|r| case_of_row(r)) {
                for sink in case_notice::overdue_sinks(&self.config, &site.id, &case) {
                    let message = nps_edge_core::alert::overdue_message(sink, &site.id, &case, now);
                    self.backend
                        .notify(
                            &site.id,
                            vec![sink.name.clone()],
                            case_notice::overdue_msg_id(&site.id, &case.id),
                            message,
                        )
                        .await?;
                }
                self.backend
                    .execute(
                        MARK_OVERDUE_ALERTED,
                        vec![
                            SqlValue::Text(site.id.clone()),
                            SqlValue::Text(case.id.clone()),
                            SqlValue::Int(now as i64),
                        ],
                    )
                    .await?;
                tracing::info!(site = %site.id, case = %case.id, owner = ?case.owner, "case overdue: alerted");
                alerted += 1;
            }
        }
        Ok(alerted)
    }
}
