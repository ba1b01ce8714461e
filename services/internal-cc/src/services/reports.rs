//! Reports from either side of a chat: lists, one report with its chat
//! and transcript (audited like every transcript read), and resolving.

use halo_chats::{ChatDetail, ReportRecord, ReportStatus, TranscriptMessage};
use halo_proto::ApiError;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::chats::{audited_transcript, chat_error};
use super::query_failed;
use crate::roles::Operator;

/// Messages a report's page shows at most; the chat's transcript route
/// pages through longer chats.
const TRANSCRIPT_ON_REPORT: i64 = 500;

pub fn report_not_found() -> ApiError {
    ApiError::not_found("report_not_found", "no such report")
}

pub async fn list(
    db: &PgPool,
    status: Option<ReportStatus>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<ReportRecord>, ApiError> {
    halo_chats::list_reports(db, status, before, i64::from(limit) + 1)
        .await
        .map_err(query_failed)
}

/// A report with its chat and the chat's transcript.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDetail {
    #[serde(flatten)]
    pub report: ReportRecord,
    pub chat: ChatDetail,
    /// The first 500 messages, oldest first.
    pub transcript: Vec<TranscriptMessage>,
    /// More messages follow: read them from `GET /internal/chats/{id}/transcript`.
    pub transcript_truncated: bool,
}

pub async fn detail(db: &PgPool, operator: &Operator, id: Uuid) -> Result<ReportDetail, ApiError> {
    let mut tx = db.begin().await.map_err(query_failed)?;
    let report = halo_chats::report_record(&mut tx, id)
        .await
        .map_err(query_failed)?
        .ok_or_else(report_not_found)?;
    let mut transcript = audited_transcript(
        &mut tx,
        operator,
        report.chat_id,
        0,
        TRANSCRIPT_ON_REPORT + 1,
    )
    .await?;
    tx.commit().await.map_err(query_failed)?;
    let transcript_truncated = transcript.len() > TRANSCRIPT_ON_REPORT as usize;
    transcript.truncate(TRANSCRIPT_ON_REPORT as usize);
    let chat = super::chats::detail(db, report.chat_id).await?;
    Ok(ReportDetail {
        report,
        chat,
        transcript,
        transcript_truncated,
    })
}

pub async fn resolve(
    db: &PgPool,
    operator: &Operator,
    id: Uuid,
    note: &str,
) -> Result<ReportRecord, ApiError> {
    let mut tx = db.begin().await.map_err(query_failed)?;
    let report = halo_chats::resolve_report(&mut tx, id, operator.profile.id, note)
        .await
        .map_err(|err| match err {
            halo_chats::ChatError::NotFound => report_not_found(),
            other => chat_error(other),
        })?;
    let entry = halo_audit::Entry::new("report.resolve", "report", id).change(
        json!({"status": "open"}),
        json!({"status": "resolved", "resolution_note": note}),
    );
    halo_audit::record(&mut tx, &operator.actor(), entry)
        .await
        .map_err(query_failed)?;
    tx.commit().await.map_err(query_failed)?;
    Ok(report)
}
