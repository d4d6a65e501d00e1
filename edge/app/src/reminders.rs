//! The one reminder: an invitation sent through the site's mail sink and not answered after the
//! survey's delay (`links.survey_reminder_days`, else `links.reminder_days`) gets one more e-mail (its subject says it is a reminder), through
//! the same sink, with the same link (signed again from its row). Never a second one, and none
//! to whom must not be asked now (suppressed, an open case, answered elsewhere): those are
//! marked as reminded and left alone.

use nps_edge_core::config::Site;
use nps_edge_core::invitations::{self, Outgoing};
use nps_edge_core::link_text::text_for;
use nps_edge_core::links::{self, Claims};
use nps_protocol::i18n::strings_for;

use crate::backend::{Backend, BackendError, SqlValue};
use crate::handlers::eligibility::{hold_back, Person};
use crate::mail::{self, Invitation};
use crate::store::{DUE_REMINDERS, MARK_REMINDED, UNMARK_REMINDED};
use crate::App;

/// Reminders handed over per site and sweep (the next sweep takes the rest).
const REMINDER_BATCH: i64 = 200;

/// One due invitation, as its row says.
struct Due {
    response_id: String,
    batch: String,
    claims: Claims,
}

fn due_of_row(site: &str, r: &[SqlValue]) -> Option<Due> {
    let text = |i: usize| r.get(i).and_then(SqlValue::as_str).map(str::to_string);
    Some(Due {
        response_id: text(0)?,
        batch: text(2)?,
        claims: Claims {
            site: site.to_string(),
            survey: text(1)?,
            email: text(3),
            user: text(4),
            account: text(5),
            order: text(6),
            locale: text(7),
            nonce: text(8)?,
            expires_s: u64::try_from(r.get(9)?.as_i64()?).ok()? / 1000,
        },
    })
}

impl<B: Backend> App<B> {
    /// Hands each due reminder to its site's mail sink (marked first, unmarked if the hand-over
    /// fails, so a crash in between loses one reminder rather than sending two). The runtimes
    /// call it with the other sweeps. Returns the number of reminders handed over.
    pub async fn sweep_reminders(&self) -> Result<u64, BackendError> {
        let now = self.backend.now_ms();
        let mut sent = 0;
        for site in &self.config.sites {
            let (Some(secret), Some(base), Some(sink)) = (
                site.links.secret.as_deref(),
                site.links.base_url.as_deref(),
                site.links.deliver.as_deref(),
            ) else {
                continue;
            };
            let days = |d: u32| i64::from(d) * 86_400_000;
            // Each survey's own delay, in the query: a slow survey's rows never take the places
            // of those that are due.
            let mut delays = String::from("{");
            for (i, (survey, d)) in site.links.survey_reminder_days.iter().enumerate() {
                if i > 0 {
                    delays.push(',');
                }
                nps_protocol::json::push_str(&mut delays, survey);
                delays.push_str(&format!(":{}", days(*d)));
            }
            delays.push('}');
            let params = vec![
                SqlValue::Text(site.id.clone()),
                SqlValue::Int(days(site.links.reminder_days)),
                SqlValue::Int(now as i64),
                SqlValue::Int(REMINDER_BATCH),
                SqlValue::Text(delays),
            ];
            let rows = match self.backend.query(DUE_REMINDERS, params).await {
                Err(BackendError::NoStore) => return Ok(0),
                r => r?,
            };
            let due = rows.iter().filter_map(|r| due_of_row(&site.id, r));
            for due in due {
                if self.remind(site, secret, base, sink, &due, now).await? {
                    sent += 1;
                }
            }
        }
        Ok(sent)
    }

    async fn remind(
        &self,
        site: &Site,
        secret: &str,
        base: &str,
        sink: &str,
        due: &Due,
        now: u64,
    ) -> Result<bool, BackendError> {
        let key = |extra: SqlValue| {
            vec![
                SqlValue::Text(site.id.clone()),
                SqlValue::Text(due.response_id.clone()),
                extra,
            ]
        };
        if self
            .backend
            .execute(MARK_REMINDED, key(SqlValue::Int(now as i64)))
            .await?
            == 0
        {
            return Ok(false);
        }
        let c = &due.claims;
        let visitor = links::visitor_id(secret.as_bytes(), &site.id, c.recipient());
        let person = Person {
            user: c.user.as_deref(),
            account: c.account.as_deref(),
            respondent: Some(c.user.as_deref().unwrap_or(&visitor)),
        };
        match hold_back(self, site, Some(&c.survey), person, now).await {
            Ok((None, _)) => {}
            Ok((Some(reason), _)) => {
                tracing::info!(site = %site.id, reason = reason.as_str(), "reminder not sent");
                return Ok(false);
            }
            Err(e) => {
                let _ = self
                    .backend
                    .execute(UNMARK_REMINDED, key(SqlValue::Null))
                    .await;
                return Err(BackendError::Failed(format!("{e:?}")));
            }
        }
        let url = format!("{base}/s/{}", links::sign(secret.as_bytes(), c));
        let score_urls: Vec<String> = (0..=10).map(|n| format!("{url}?score={n}")).collect();
        let email = mail::render(&Invitation {
            strings: strings_for(c.lang()),
            text: text_for(c.lang()),
            brand: links::brand(site),
            url: &url,
            score_urls: &score_urls,
            reminder: true,
        });
        let to = c.email.as_deref().unwrap_or_default();
        let payload = invitations::payload(
            &Outgoing {
                site: &site.id,
                survey: &c.survey,
                batch: &due.batch,
                response_id: &due.response_id,
                to,
                user: c.user.as_deref(),
                account: c.account.as_deref(),
                order: c.order.as_deref(),
                locale: c.locale.as_deref(),
                url: &url,
                subject: &email.subject,
                html: &email.html,
                text: &email.text,
                reminder: true,
            },
            now,
        );
        let msg_id = invitations::message_id(&site.id, &due.response_id, true);
        if let Err(e) = self
            .backend
            .notify(&site.id, vec![sink.to_string()], msg_id, payload)
            .await
        {
            let _ = self
                .backend
                .execute(UNMARK_REMINDED, key(SqlValue::Null))
                .await;
            return Err(e);
        }
        tracing::info!(site = %site.id, survey = %c.survey, "reminder handed to the mail sink");
        Ok(true)
    }
}
