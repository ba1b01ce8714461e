//! Mitras: register a phone (through the core, which owns accounts), edit
//! the public profile (halo-mitras), suspend and activate. A suspension is
//! two audited transactions: the core's (status, sessions revoked) and
//! ours (chats ended, offers passed on, offline). Run again, it finishes
//! whatever the first run did not.

use halo_chats::MitraChatsClosed;
use halo_mitras::{MitraRecord, ProfileChange, RosterFilter};
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::EdgeState;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{not_found_as, query_failed};
use crate::roles::Operator;

pub fn mitra_not_found() -> ApiError {
    ApiError::not_found("mitra_not_found", "no such mitra")
}

pub async fn list(
    state: &EdgeState,
    filter: &RosterFilter,
    limit: u32,
) -> Result<Vec<MitraRecord>, ApiError> {
    let knobs = state.knobs.current()?;
    halo_mitras::roster(&state.db, &knobs.knobs, filter, i64::from(limit) + 1)
        .await
        .map_err(query_failed)
}

pub async fn get(state: &EdgeState, id: Uuid) -> Result<MitraRecord, ApiError> {
    let knobs = state.knobs.current()?;
    halo_mitras::mitra_record(&state.db, &knobs.knobs, id)
        .await
        .map_err(query_failed)?
        .ok_or_else(mitra_not_found)
}

/// Registers the phone with the core, then saves the profile's photo and
/// bio, if given, in an audited transaction of ours.
pub async fn create(
    state: &EdgeState,
    operator: &Operator,
    phone: String,
    display_name: String,
    profile: ProfileChange,
) -> Result<MitraRecord, ApiError> {
    let registered = state
        .core
        .register_mitra(
            &operator.auth,
            v1::RegisterMitraRequest {
                phone,
                display_name,
                client_ip: operator.client_ip(),
            },
        )
        .await?;
    let id: Uuid = registered
        .user_id
        .parse()
        .map_err(|e| halo_web::internal_error("the core sent a malformed user id", e))?;
    if profile.photo_url.is_some() || profile.bio.is_some() {
        save_profile(state, operator, id, &profile).await?;
    }
    get(state, id).await
}

pub async fn update(
    state: &EdgeState,
    operator: &Operator,
    id: Uuid,
    change: &ProfileChange,
) -> Result<MitraRecord, ApiError> {
    save_profile(state, operator, id, change).await?;
    get(state, id).await
}

async fn save_profile(
    state: &EdgeState,
    operator: &Operator,
    id: Uuid,
    change: &ProfileChange,
) -> Result<(), ApiError> {
    let mut tx = state.db.begin().await.map_err(query_failed)?;
    let (before, after) = halo_mitras::save_profile(&mut tx, id, change)
        .await
        .map_err(query_failed)?
        .ok_or_else(mitra_not_found)?;
    let entry = halo_audit::Entry::new("mitra.update", "mitra", id).change(before, after);
    halo_audit::record(&mut tx, &operator.actor(), entry)
        .await
        .map_err(query_failed)?;
    tx.commit().await.map_err(query_failed)
}

/// What suspending did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suspension {
    pub mitra: MitraRecord,
    /// Sign-ins ended now; the mitra's next refresh fails.
    pub sessions_revoked: i64,
    /// Running chats ended (`ended_by: operator`); their customers are told.
    pub chats_ended: usize,
    /// Chats offered to the mitra, passed on to others at once.
    pub offers_withdrawn: usize,
}

pub async fn suspend(
    state: &EdgeState,
    operator: &Operator,
    id: Uuid,
) -> Result<Suspension, ApiError> {
    let change = set_status(state, operator, id, v1::AccountStatus::Suspended).await?;
    let knobs = state.knobs.current()?;
    let mut tx = state.db.begin().await.map_err(query_failed)?;
    let MitraChatsClosed { ended, withdrawn } =
        halo_chats::end_mitra_chats(&mut tx, &knobs.knobs, id)
            .await
            .map_err(query_failed)?;
    let entry = halo_audit::Entry::new("mitra.end_chats", "mitra", id)
        .after(json!({"chats_ended": ended, "offers_withdrawn": withdrawn, "presence": "offline"}));
    halo_audit::record(&mut tx, &operator.actor(), entry)
        .await
        .map_err(query_failed)?;
    tx.commit().await.map_err(query_failed)?;
    Ok(Suspension {
        mitra: get(state, id).await?,
        sessions_revoked: change.sessions_revoked,
        chats_ended: ended,
        offers_withdrawn: withdrawn,
    })
}

pub async fn activate(
    state: &EdgeState,
    operator: &Operator,
    id: Uuid,
) -> Result<MitraRecord, ApiError> {
    set_status(state, operator, id, v1::AccountStatus::Active).await?;
    get(state, id).await
}

async fn set_status(
    state: &EdgeState,
    operator: &Operator,
    id: Uuid,
    status: v1::AccountStatus,
) -> Result<v1::SetUserStatusResponse, ApiError> {
    state
        .core
        .set_user_status(
            &operator.auth,
            id,
            v1::UserType::Mitra,
            status,
            operator.client_ip(),
        )
        .await
        .map_err(|e| not_found_as(e, mitra_not_found))
}
