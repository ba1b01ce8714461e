//! The settings page: every DB knob with its bounds and the env values it
//! depends on; validated, optimistic updates; the change history.

use halo_auth::Auth;
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::CoreClient;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    /// Also the `ETag`; send it back as `If-Match` when changing settings.
    pub version: String,
    pub settings: Vec<SettingView>,
    /// Every env-derived value the page shows, e.g. `MITRA_HEARTBEAT_CADENCE_SECONDS`.
    #[schema(value_type = Object)]
    pub env: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingView {
    pub key: String,
    /// Any JSON: an integer, or an array or object for structured kinds.
    pub value: Value,
    /// `integer`, `pricing_tiers` or `support_handles`.
    pub kind: String,
    pub description: String,
    /// Inclusive bounds in force now (integers only), env-derived ones applied.
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// The env values this knob is checked against.
    #[schema(value_type = Object)]
    pub depends_on: Value,
    pub updated_at: String,
    pub updated_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    pub changes: Vec<ChangeView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    pub id: i64,
    pub key: String,
    /// Any JSON, like `SettingView.value`; `null` when the key was first set.
    pub old_value: Value,
    pub new_value: Value,
    pub changed_by: String,
    pub changed_by_email: Option<String>,
    pub changed_at: String,
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl From<v1::Settings> for SettingsView {
    fn from(s: v1::Settings) -> Self {
        Self {
            version: s.version,
            env: json(&s.env_json),
            settings: s
                .settings
                .into_iter()
                .map(|s| SettingView {
                    value: json(&s.value_json),
                    depends_on: json(&s.depends_on_json),
                    key: s.key,
                    kind: s.kind,
                    description: s.description,
                    min: s.min,
                    max: s.max,
                    updated_at: s.updated_at,
                    updated_by: s.updated_by,
                })
                .collect(),
        }
    }
}

pub async fn get(core: &CoreClient, operator: &Auth) -> Result<SettingsView, ApiError> {
    Ok(core.settings(operator).await?.into())
}

pub async fn update(
    core: &CoreClient,
    admin: &Auth,
    expected_version: String,
    changes: Value,
    client_ip: String,
) -> Result<SettingsView, ApiError> {
    let hidden = halo_proto::text::control_characters_in("", &changes);
    if !hidden.is_empty() {
        return Err(ApiError::invalid_fields(hidden));
    }
    Ok(core
        .update_settings(admin, expected_version, changes.to_string(), client_ip)
        .await?
        .into())
}

pub async fn history(
    core: &CoreClient,
    operator: &Auth,
    limit: i32,
    before_id: Option<i64>,
) -> Result<HistoryView, ApiError> {
    let history = core.settings_history(operator, limit, before_id).await?;
    Ok(HistoryView {
        changes: history
            .changes
            .into_iter()
            .map(|c| ChangeView {
                id: c.id,
                old_value: json(&c.old_value_json),
                new_value: json(&c.new_value_json),
                key: c.key,
                changed_by: c.changed_by,
                changed_by_email: c.changed_by_email,
                changed_at: c.changed_at,
            })
            .collect(),
    })
}
