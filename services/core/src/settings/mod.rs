//! The config service: DB knobs cached in memory (reads cost no I/O),
//! validated optimistic updates with a change record, and invalidation
//! across instances through Valkey pub/sub, with a version poll every
//! `CONFIG_CACHE_TTL_SECONDS` as the bound while Valkey is down.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use halo_events::{Bus, Event, channels};
use halo_knobs::{self as knobs, EnvKnobs, Knobs};
use halo_proto::v1;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

/// One consistent read of every knob.
#[derive(Debug)]
pub struct Snapshot {
    pub version: i64,
    pub knobs: Knobs,
    rows: BTreeMap<String, Row>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    key: String,
    value: Value,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
    version: i64,
}

#[derive(Clone)]
pub struct SettingsStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    env: EnvKnobs,
    bus: Bus,
    current: RwLock<Arc<Snapshot>>,
}

impl SettingsStore {
    /// Loads the knobs once (start-up fails if the table is unusable) and
    /// starts the task that keeps them fresh.
    pub async fn start(
        pool: PgPool,
        env: EnvKnobs,
        bus: Bus,
        ttl: Duration,
    ) -> anyhow::Result<Self> {
        let snapshot = load(&pool).await?;
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                env,
                bus,
                current: RwLock::new(Arc::new(snapshot)),
            }),
        };
        tokio::spawn(keep_fresh(Arc::downgrade(&store.inner), ttl));
        Ok(store)
    }

    /// The knobs as of the last load: no I/O, one uncontended lock.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner
            .current
            .read()
            .expect("settings lock poisoned")
            .clone()
    }

    /// Every knob's value, for an edge's copy. A caller that heard of
    /// `min_version` must not get an older copy back, so a core that has not
    /// caught up yet reloads first.
    pub async fn knobs(&self, min_version: i64) -> CoreResult<v1::Knobs> {
        if self.snapshot().version < min_version {
            self.reload().await?;
        }
        let snapshot = self.snapshot();
        let values: serde_json::Map<String, Value> = snapshot
            .rows
            .iter()
            .map(|(key, row)| (key.clone(), row.value.clone()))
            .collect();
        Ok(v1::Knobs {
            version: snapshot.version,
            values_json: Value::Object(values).to_string(),
            env_json: self.env_json(),
        })
    }

    fn env_json(&self) -> String {
        serde_json::to_string(&self.inner.env).expect("env knobs serialise")
    }

    /// Every knob with its value, type, bounds, the env values it depends
    /// on, and who changed it last (the CC settings page).
    pub fn settings(&self) -> v1::Settings {
        let snapshot = self.snapshot();
        let env = &self.inner.env;
        v1::Settings {
            settings: knobs::KNOBS
                .iter()
                .map(|knob| {
                    let row = snapshot.rows.get(knob.key);
                    let bounds = knobs::bounds(knob, env);
                    v1::Setting {
                        key: knob.key.to_owned(),
                        value_json: row.map(|r| r.value.to_string()).unwrap_or_default(),
                        kind: knob.kind.name().to_owned(),
                        description: knob.description.to_owned(),
                        min: bounds.map(|b| b.0),
                        max: bounds.map(|b| b.1),
                        depends_on_json: knobs::depends_on(knob, env).to_string(),
                        updated_at: row.map(|r| r.updated_at.to_rfc3339()).unwrap_or_default(),
                        updated_by: row.and_then(|r| r.updated_by).map(|id| id.to_string()),
                    }
                })
                .collect(),
            version: snapshot.version.to_string(),
            env_json: self.env_json(),
        }
    }

    /// Applies a validated change set if `expected_version` is still
    /// current; records each changed knob; tells the other instances.
    #[tracing::instrument(skip_all, fields(actor = %actor.operator_id), err(level = "info", Display))]
    pub async fn update(
        &self,
        expected_version: &str,
        changes: &Value,
        actor: &halo_audit::Actor,
    ) -> CoreResult<v1::Settings> {
        // Values are stored as jsonb, which refuses NUL; no knob wants
        // control characters anyway.
        let hidden = halo_proto::text::control_characters_in("", changes);
        if !hidden.is_empty() {
            return Err(CoreError::Invalid(hidden));
        }
        let Some(changes) = changes.as_object().filter(|c| !c.is_empty()) else {
            return Err(CoreError::invalid(
                "settings",
                "empty_change",
                "send at least one setting to change",
            ));
        };
        let mut errors = Vec::new();
        let mut validated = BTreeMap::new();
        for (key, value) in changes {
            match knobs::knob(key) {
                None => errors.push(halo_proto::FieldError {
                    field: key.clone(),
                    code: "unknown_setting".to_owned(),
                    message: "no such setting".to_owned(),
                }),
                Some(knob) => match knobs::validate(knob, value, &self.inner.env) {
                    Ok(normalised) => {
                        validated.insert(key.clone(), normalised);
                    }
                    Err(mut problems) => errors.append(&mut problems),
                },
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let expected: i64 = expected_version
            .trim_matches('"')
            .parse()
            .map_err(|_| CoreError::VersionConflict)?;

        let mut tx = self.inner.pool.begin().await?;
        let current: i64 = sqlx::query_scalar("SELECT version FROM app_config_version FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        if current != expected {
            return Err(CoreError::VersionConflict);
        }
        let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
        for (key, new_value) in &validated {
            let old_value: Option<Value> =
                sqlx::query_scalar("SELECT value FROM app_config WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            if old_value.as_ref() == Some(new_value) {
                continue;
            }
            sqlx::query(
                "INSERT INTO app_config (key, value, updated_at, updated_by) VALUES ($1, $2, now(), $3)
                 ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now(), updated_by = $3",
            )
            .bind(key)
            .bind(new_value)
            .bind(actor.operator_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO app_config_changes (key, old_value, new_value, changed_by) VALUES ($1, $2, $3, $4)",
            )
            .bind(key)
            .bind(&old_value)
            .bind(new_value)
            .bind(actor.operator_id)
            .execute(&mut *tx)
            .await?;
            before.insert(key.clone(), old_value.unwrap_or(Value::Null));
            after.insert(key.clone(), new_value.clone());
        }
        let changed = after.len();
        if changed > 0 {
            sqlx::query("UPDATE app_config_version SET version = version + 1")
                .execute(&mut *tx)
                .await?;
            let entry = halo_audit::Entry::new("settings.update", "settings", "app_config")
                .change(before.into(), after.into());
            halo_audit::record(&mut tx, actor, entry).await?;
        }
        tx.commit().await?;
        if changed > 0 {
            self.reload().await?;
            let version = self.snapshot().version.to_string();
            // The change is committed and live here; telling the others
            // must not hold the operator's request up when Valkey is slow.
            let bus = self.inner.bus.clone();
            tokio::spawn(async move {
                if let Err(err) = bus.publish(channels::CONFIG_CHANGED, &version).await {
                    tracing::warn!(error = %err, "settings saved but not broadcast; other instances catch up by polling");
                }
            });
            tracing::info!(changed, "settings updated");
        }
        Ok(self.settings())
    }

    pub async fn history(
        &self,
        limit: i32,
        before_id: Option<i64>,
    ) -> CoreResult<v1::SettingsHistory> {
        #[derive(sqlx::FromRow)]
        struct Change {
            id: i64,
            key: String,
            old_value: Option<Value>,
            new_value: Value,
            changed_by: Uuid,
            email: Option<String>,
            changed_at: DateTime<Utc>,
        }
        let rows: Vec<Change> = sqlx::query_as(
            "SELECT c.id, c.key, c.old_value, c.new_value, c.changed_by, u.email, c.changed_at
             FROM app_config_changes c LEFT JOIN auth.cc_users u ON u.id = c.changed_by
             WHERE $2::bigint IS NULL OR c.id < $2
             ORDER BY c.id DESC LIMIT $1",
        )
        .bind(i64::from(limit.clamp(1, 200)))
        .bind(before_id)
        .fetch_all(&self.inner.pool)
        .await?;
        Ok(v1::SettingsHistory {
            changes: rows
                .into_iter()
                .map(|c| v1::SettingChange {
                    id: c.id,
                    key: c.key,
                    old_value_json: c
                        .old_value
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "null".into()),
                    new_value_json: c.new_value.to_string(),
                    changed_by: c.changed_by.to_string(),
                    changed_by_email: c.email,
                    changed_at: c.changed_at.to_rfc3339(),
                })
                .collect(),
        })
    }

    async fn reload(&self) -> anyhow::Result<()> {
        let snapshot = load(&self.inner.pool).await?;
        let mut current = self.inner.current.write().expect("settings lock poisoned");
        // Never step back to an older version read by a slower reload.
        if snapshot.version >= current.version {
            *current = Arc::new(snapshot);
        }
        Ok(())
    }
}

async fn load(pool: &PgPool) -> anyhow::Result<Snapshot> {
    // One statement, so the version and the values are one consistent read.
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT key, value, updated_at, updated_by, (SELECT version FROM app_config_version) AS version
         FROM app_config",
    )
    .fetch_all(pool)
    .await?;
    let version = rows.first().map_or(0, |r| r.version);
    let rows: BTreeMap<String, Row> = rows.into_iter().map(|r| (r.key.clone(), r)).collect();
    let values = rows
        .iter()
        .map(|(k, r)| (k.clone(), r.value.clone()))
        .collect();
    Ok(Snapshot {
        version,
        knobs: Knobs::from_values(&values)?,
        rows,
    })
}

/// Reloads on a broadcast from another instance, on reconnecting to Valkey
/// (messages may have been missed), and whenever the version row moved
/// (checked every `ttl`, which bounds staleness while Valkey is down).
async fn keep_fresh(inner: std::sync::Weak<Inner>, ttl: Duration) {
    let Some(mut events) = inner.upgrade().map(|i| i.bus.subscribe()) else {
        return;
    };
    let mut poll = tokio::time::interval(ttl);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let due = tokio::select! {
            event = events.recv() => match event {
                Ok(Event::Message { channel, .. }) => channel == channels::CONFIG_CHANGED,
                Ok(Event::Resync) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            _ = poll.tick() => {
                let Some(inner) = inner.upgrade() else { return };
                let store = SettingsStore { inner };
                match sqlx::query_scalar::<_, i64>("SELECT version FROM app_config_version")
                    .fetch_one(&store.inner.pool)
                    .await
                {
                    Ok(version) => version != store.snapshot().version,
                    Err(err) => {
                        tracing::warn!(error = %err, "settings version poll failed");
                        false
                    }
                }
            }
        };
        if !due {
            continue;
        }
        let Some(inner) = inner.upgrade() else { return };
        if let Err(err) = (SettingsStore { inner }).reload().await {
            tracing::warn!(
                error = format!("{err:#}"),
                "settings reload failed; keeping the last good values"
            );
        }
    }
}
