//! The application's backend on Cloudflare: one `SiteState` Durable Object per site (or site +
//! survey) holds what must be strongly consistent — dedup records, the durable record of each
//! accepted answer until D1 and the Queue have it, suppressions, alert states — and D1 is the
//! response store the report reads.

use nps_edge_app::backend::{
    Backend, BackendError, Erasure, NewEvent, NewResponse, Purged, Rows, SinkGauge, SqlValue,
    VisitorQuery, VisitorRecords,
};
use nps_edge_app::store::{
    event_params, ERASE_CASES, ERASE_CASE_NOTES, ERASE_DEAD_LETTERS, ERASE_EVENTS, ERASE_RESPONSES,
    INSERT_EVENT, PURGE_CASES, PURGE_CASE_NOTES, PURGE_EVENTS, PURGE_RESPONSES, SURVEYS,
};
use nps_edge_core::config::Site;
use nps_edge_core::config::WorkerConfig;
use nps_edge_core::dedup::{Decision, DuplicateKind, Status};
use nps_edge_core::erasure::{self, Erased, Person};
use nps_edge_core::suppression::Suppression;

use crate::driven;
use crate::js::{Assets, JsError, ObjectNamespace, D1};
use crate::ops::{Erased as ErasedHere, Op, Record, Recorded, SuppressionRow, VisitorAnswer};

/// The worker backend (one per isolate).
pub(crate) struct WorkerBackend {
    cfg: WorkerConfig,
    state: ObjectNamespace,
    d1: Option<D1>,
    assets: Option<Assets>,
}

fn failed(e: JsError) -> BackendError {
    BackendError::Failed(e.0)
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, BackendError> {
    serde_json::from_str(text).map_err(|e| BackendError::Failed(format!("state answer: {e}")))
}

impl WorkerBackend {
    pub(crate) fn new(
        cfg: WorkerConfig,
        state: ObjectNamespace,
        d1: Option<D1>,
        assets: Option<Assets>,
    ) -> WorkerBackend {
        WorkerBackend {
            cfg,
            state,
            d1,
            assets,
        }
    }

    /// The state object's name for a site's dedup records (site or site + survey).
    pub(crate) fn object_for(&self, site: &str, survey: &str) -> String {
        self.cfg.object_for(site, survey)
    }

    /// Calls a state object.
    pub(crate) async fn call(&self, object: &str, op: &Op) -> Result<String, BackendError> {
        let request = serde_json::to_string(op).map_err(|e| BackendError::Failed(e.to_string()))?;
        self.object_call(object, request).await
    }

    /// Sends one request to a state object: through the JS shell when it drives the request
    /// (see `driven`), else by awaiting the stub's promise.
    async fn object_call(&self, object: &str, request: String) -> Result<String, BackendError> {
        if driven::driving() {
            return driven::call(&self.cfg.state, object, request)
                .await
                .map_err(|e| BackendError::Failed(e.0));
        }
        self.state
            .call_named(object, &request)
            .await
            .map_err(failed)
    }

    /// The response store, if configured.
    pub(crate) fn d1(&self) -> Option<&D1> {
        self.d1.as_ref()
    }
}

fn suppression(r: SuppressionRow) -> Suppression {
    Suppression {
        subject: r.subject,
        expires_ms: r.expires_ms,
        reason: r.reason,
        created_ms: r.created_ms,
    }
}

impl Backend for WorkerBackend {
    // The case's webhook comes from the answer's durable record: the state object announces the
    // case once its outbox row has written it to D1 (site_state.rs).
    const ANNOUNCES_CASES: bool = true;

    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    async fn record_response(&self, new: NewResponse) -> Result<Decision, BackendError> {
        let object = self.object_for(&new.response.site, &new.response.survey);
        let rec = Record {
            id: new.response.id.clone(),
            rev: new.response.rev,
            survey: new.response.survey.clone(),
            respondent: new.response.respondent().to_string(),
            visitor: new.response.visitor.clone(),
            user: new
                .response
                .user
                .as_ref()
                .and_then(|u| u.id.clone())
                .unwrap_or_default(),
            body: new.body,
            sinks: new.sinks,
            payload: new.payload,
            case: match new.case {
                None => String::new(),
                Some(nps_edge_core::cases::Action::Open { due_ms }) => format!("o{due_ms}"),
                Some(nps_edge_core::cases::Action::Withdraw) => "w".into(),
            },
            fresh: new.fresh_respondent,
            id_window_ms: new.id_window_ms,
            respondent_window_ms: new.respondent_window_ms,
            now_ms: new.now_ms,
        };
        let answer = self.object_call(&object, rec.to_line()).await?;
        let r = Recorded::from_line(&answer)
            .ok_or_else(|| BackendError::Failed(format!("state answer {answer:?}")))?;
        Ok(Decision {
            status: Status::parse(&r.status)
                .ok_or_else(|| BackendError::Failed(format!("status {:?}", r.status)))?,
            duplicate: match r.duplicate.as_deref() {
                Some("id") => Some(DuplicateKind::Id),
                Some("respondent") => Some(DuplicateKind::Respondent),
                _ => None,
            },
            store: r.store,
            forward: r.forward,
            claim_respondent: r.claim_respondent,
            conflict: r.conflict,
        })
    }

    async fn record_event(&self, new: NewEvent) -> Result<bool, BackendError> {
        // One insert is atomic on its own: no state object needed. Without a store, events are
        // answered but not kept (documented in wrangler.toml).
        let Some(d1) = &self.d1 else {
            return Ok(false);
        };
        let changed = d1
            .execute(INSERT_EVENT, &event_params(&new.event, new.now_ms))
            .await
            .map_err(failed)?;
        Ok(changed == 0)
    }

    async fn visitor(&self, q: VisitorQuery) -> Result<VisitorRecords, BackendError> {
        let site_object = q.site.clone();
        let respondent_object = q
            .respondent
            .as_ref()
            .map(|(survey, _, _)| self.object_for(&q.site, survey));
        let same = respondent_object.as_ref().is_none_or(|o| *o == site_object);
        let first: VisitorAnswer = decode(
            &self
                .call(
                    &site_object,
                    &Op::Visitor {
                        subjects: q.subjects.clone(),
                        respondent: if same { q.respondent.clone() } else { None },
                    },
                )
                .await?,
        )?;
        let mut out = VisitorRecords {
            suppressions: first.suppressions.into_iter().map(suppression).collect(),
            answered_ms: first.answered_ms,
        };
        if let (false, Some(object)) = (same, respondent_object) {
            let second: VisitorAnswer = decode(
                &self
                    .call(
                        &object,
                        &Op::Visitor {
                            subjects: Vec::new(),
                            respondent: q.respondent.clone(),
                        },
                    )
                    .await?,
            )?;
            out.answered_ms = second.answered_ms;
        }
        Ok(out)
    }

    async fn put_suppression(&self, site: &str, s: Suppression) -> Result<(), BackendError> {
        let op = Op::SupPut {
            subject: s.subject,
            expires_ms: s.expires_ms,
            reason: s.reason,
            created_ms: s.created_ms,
        };
        self.call(site, &op).await.map(|_| ())
    }

    async fn delete_suppression(&self, site: &str, subject: &str) -> Result<bool, BackendError> {
        let op = Op::SupDel {
            subject: subject.to_string(),
        };
        decode(&self.call(site, &op).await?)
    }

    async fn list_suppressions(&self, site: &str) -> Result<Vec<Suppression>, BackendError> {
        let rows: Vec<SuppressionRow> = decode(&self.call(site, &Op::SupList).await?)?;
        Ok(rows.into_iter().map(suppression).collect())
    }

    async fn execute(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<u64, BackendError> {
        let d1 = self.d1.as_ref().ok_or(BackendError::NoStore)?;
        d1.execute(sql, &params).await.map_err(failed)
    }

    async fn query(&self, sql: &'static str, params: Vec<SqlValue>) -> Result<Rows, BackendError> {
        let d1 = self.d1.as_ref().ok_or(BackendError::NoStore)?;
        d1.rows(sql, &params).await.map_err(failed)
    }

    async fn sink_gauges(&self) -> Result<Option<Vec<SinkGauge>>, BackendError> {
        // A Queue's depth is not observable from inside a worker (see the Queues dashboard).
        Ok(None)
    }

    async fn notify(
        &self,
        site: &str,
        sinks: Vec<String>,
        msg_id: String,
        payload: String,
    ) -> Result<(), BackendError> {
        // The site's state object keeps it in its outbox until the Queue has it.
        let op = Op::Notify {
            sinks,
            msg_id,
            payload,
        };
        self.call(site, &op).await.map(|_| ())
    }

    async fn static_text(
        &self,
        name: &'static str,
    ) -> Result<Option<std::borrow::Cow<'static, str>>, BackendError> {
        let Some(assets) = &self.assets else {
            return Ok(None);
        };
        Ok(assets
            .text_file(name)
            .await
            .map_err(failed)?
            .map(std::borrow::Cow::Owned))
    }

    async fn erase_person(&self, e: Erasure) -> Result<Erased, BackendError> {
        let email = match &e.person {
            Person::Email(m) => Some(m.clone()),
            Person::User(_) => None,
        };
        // The site's object (suppressions, and every record when not sharded), then the object
        // of each survey they answered.
        let mut objects = vec![e.site.clone()];
        for survey in &e.found.surveys {
            let o = self.object_for(&e.site, survey);
            if !objects.contains(&o) {
                objects.push(o);
            }
        }
        let mut ids = e.found.response_ids.clone();
        let mut users = e.found.user_ids.clone();
        let mut out = Erased::default();
        for o in &objects {
            let op = Op::Erase {
                response_ids: ids.clone(),
                user_ids: users.clone(),
                email: email.clone(),
            };
            let here: ErasedHere = decode(&self.call(o, &op).await?)?;
            ids.extend(here.pending_ids);
            for u in here.user_ids {
                if !users.contains(&u) {
                    users.push(u);
                }
            }
            out.deliveries += here.deliveries;
            out.suppressions += here.suppressions;
        }
        ids.sort();
        users.sort();
        if let Some(d1) = &self.d1 {
            let site = SqlValue::Text(e.site.clone());
            let ids_json = SqlValue::Text(erasure::string_array(&ids));
            let users_json = SqlValue::Text(erasure::string_array(&users));
            let visitors = SqlValue::Text(erasure::string_array(&e.found.visitors));
            for sql in [ERASE_RESPONSES, ERASE_CASE_NOTES, ERASE_CASES] {
                d1.execute(sql, &[site.clone(), ids_json.clone()])
                    .await
                    .map_err(failed)?;
            }
            out.events = d1
                .execute(ERASE_EVENTS, &[site.clone(), users_json.clone(), visitors])
                .await
                .map_err(failed)?;
            out.deliveries += d1
                .execute(
                    ERASE_DEAD_LETTERS,
                    &[site.clone(), ids_json.clone(), users_json],
                )
                .await
                .map_err(failed)?;
            // A delivery already in the Queue is dropped at its next attempt.
            d1.execute(
                "INSERT OR IGNORE INTO erased (site, id, erased_ms) SELECT ?1, value, ?3 FROM json_each(?2)",
                &[site, ids_json, SqlValue::Int(e.now_ms as i64)],
            )
            .await
            .map_err(failed)?;
        }
        out.responses = ids.len() as u64;
        out.response_ids = ids;
        out.user_ids = users;
        if !e.notice_sinks.is_empty() {
            let op = Op::Notify {
                sinks: e.notice_sinks.clone(),
                msg_id: erasure::notice_id(&e.site, &e.person, e.now_ms),
                payload: erasure::notice_payload(&e.site, &e.person, &out, e.now_ms),
            };
            self.call(&e.site, &op).await?;
        }
        Ok(out)
    }

    async fn purge(&self, site: &Site, before_ms: u64) -> Result<Purged, BackendError> {
        let mut out = Purged::default();
        let mut objects = vec![site.id.clone()];
        if let Some(d1) = &self.d1 {
            let id = SqlValue::Text(site.id.clone());
            let before = SqlValue::Int(before_ms as i64);
            for row in d1
                .rows(SURVEYS, std::slice::from_ref(&id))
                .await
                .map_err(failed)?
            {
                if let Some(survey) = row.first().and_then(SqlValue::as_str) {
                    let o = self.object_for(&site.id, survey);
                    if !objects.contains(&o) {
                        objects.push(o);
                    }
                }
            }
            out.responses = d1
                .execute(PURGE_RESPONSES, &[id.clone(), before.clone()])
                .await
                .map_err(failed)?;
            out.events = d1
                .execute(PURGE_EVENTS, &[id.clone(), before.clone()])
                .await
                .map_err(failed)?;
            out.other += d1
                .execute(
                    "DELETE FROM dead_letters WHERE json_extract(payload, '$.data.site') = ?1 AND failed_at < ?2",
                    &[id.clone(), SqlValue::Text(nps_edge_core::time::rfc3339_ms(before_ms))],
                )
                .await
                .map_err(failed)?;
            out.other += d1
                .execute(PURGE_CASES, &[id.clone(), before.clone()])
                .await
                .map_err(failed)?;
            d1.execute(PURGE_CASE_NOTES, std::slice::from_ref(&id))
                .await
                .map_err(failed)?;
            out.other += d1
                .execute(
                    "DELETE FROM erased WHERE site = ?1 AND erased_ms < ?2",
                    &[id, before],
                )
                .await
                .map_err(failed)?;
        }
        for o in &objects {
            let op = Op::Purge {
                before_ms,
                respondent_window_ms: site.respondent_window_ms(),
            };
            out.other += decode::<u64>(&self.call(o, &op).await?)?;
        }
        Ok(out)
    }
}
