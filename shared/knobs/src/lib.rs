//! The registry of DB knobs (the seed's `config.service.js` getters): each
//! knob's type, description, bounds and validation, and the typed [`Knobs`]
//! every other crate reads. The core validates and stores them; each edge
//! keeps an in-memory copy of the same types.

use std::collections::{BTreeMap, HashSet};

use halo_auth::Phone;
use halo_proto::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Deploy-fixed (env) values the apps must honour and the knobs' validation
/// depends on (the seed's config-source convention: env, not DB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvKnobs {
    #[serde(rename = "MITRA_HEARTBEAT_CADENCE_SECONDS")]
    pub mitra_heartbeat_cadence_seconds: i64,
    #[serde(rename = "PAYMENT_MIN_AMOUNT_IDR")]
    pub payment_min_amount_idr: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Integer { min: i64, max: i64 },
    PricingTiers,
    SupportHandles,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Integer { .. } => "integer",
            Self::PricingTiers => "pricing_tiers",
            Self::SupportHandles => "support_handles",
        }
    }
}

pub struct Knob {
    pub key: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

/// Every DB knob. Defaults are seeded by migration; a knob added here needs
/// a migration inserting its default.
pub const KNOBS: &[Knob] = &[
    Knob {
        key: "mitra_stale_after_seconds",
        kind: Kind::Integer { min: 10, max: 3600 },
        description: "A mitra whose last heartbeat is older than this counts as offline. \
                      Must be at least twice MITRA_HEARTBEAT_CADENCE_SECONDS so one lost heartbeat does not flap a mitra offline.",
    },
    Knob {
        key: "mitra_accept_timeout_seconds",
        kind: Kind::Integer { min: 15, max: 600 },
        description: "How long a mitra has to accept a new session before it is re-matched.",
    },
    Knob {
        key: "extension_timeout_seconds",
        kind: Kind::Integer { min: 15, max: 600 },
        description: "How long a mitra has to accept a customer's extension request.",
    },
    Knob {
        key: "max_customers_per_mitra",
        kind: Kind::Integer { min: 1, max: 20 },
        description: "Active sessions a mitra may hold at once; matching never exceeds it.",
    },
    Knob {
        key: "pricing_tiers",
        kind: Kind::PricingTiers,
        description: "What a customer can buy: [{id, label, duration_minutes, price_idr}], prices in whole rupiah.",
    },
    Knob {
        key: "support_handles_json",
        kind: Kind::SupportHandles,
        description: "Where customers reach support: {whatsapp, instagram, email}, each optional.",
    },
    Knob {
        key: "otp_resend_cooldown_seconds",
        kind: Kind::Integer { min: 10, max: 600 },
        description: "Minimum wait before another OTP code can be sent to the same phone.",
    },
    Knob {
        key: "otp_max_per_phone_per_hour",
        kind: Kind::Integer { min: 1, max: 50 },
        description: "OTP codes one phone may request per hour.",
    },
    Knob {
        key: "otp_max_per_ip_per_hour",
        kind: Kind::Integer { min: 1, max: 1000 },
        description: "OTP codes one IP address may request per hour.",
    },
    Knob {
        key: "otp_verify_max_per_ip_per_hour",
        kind: Kind::Integer {
            min: 1,
            max: 100_000,
        },
        description: "OTP verification attempts one IP address may make per hour. \
                      Generous: many phones share one carrier (CGNAT) address.",
    },
    Knob {
        key: "anonymous_sign_in_max_per_ip_per_hour",
        kind: Kind::Integer {
            min: 1,
            max: 100_000,
        },
        description: "Anonymous sign-ins (each a new user) one IP address may make per hour. \
                      Generous: many phones share one carrier (CGNAT) address.",
    },
    Knob {
        key: "refresh_max_per_session_per_hour",
        kind: Kind::Integer { min: 1, max: 1000 },
        description: "Refresh attempts one session may make per hour; an app needs about one.",
    },
    Knob {
        key: "refresh_max_per_ip_per_hour",
        kind: Kind::Integer {
            min: 1,
            max: 1_000_000,
        },
        description: "Refresh attempts one IP address may make per hour. \
                      Generous: many phones share one carrier (CGNAT) address.",
    },
    Knob {
        key: "payment_window_seconds",
        kind: Kind::Integer {
            min: 300,
            max: 86_400,
        },
        description: "How long a customer has to pay an order's invoice before it expires \
                      (the invoice's duration at the payment provider and the order's local expiry).",
    },
    Knob {
        key: "match_wait_seconds",
        kind: Kind::Integer { min: 30, max: 3600 },
        description: "How long a paid order keeps being offered to mitras (declines and accept timeouts \
                      re-offer it) before it is given up as unserved and flagged for a refund.",
    },
    Knob {
        key: "chat_end_warning_seconds",
        kind: Kind::Integer { min: 10, max: 1800 },
        description: "How long before a chat's end both sides are told it is ending soon.",
    },
    Knob {
        key: "extension_payment_grace_seconds",
        kind: Kind::Integer { min: 0, max: 900 },
        description: "How long a chat is held open past its end while the customer pays an extension \
                      the mitra accepted; unpaid by then, the chat ends.",
    },
    Knob {
        key: "mitra_revenue_share_percent",
        kind: Kind::Integer { min: 0, max: 100 },
        description: "The percentage of each served order (a chat or a paid extension) a mitra earns, \
                      fixed on each order when it is served.",
    },
];

pub fn knob(key: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.key == key)
}

/// Highest price a tier may have (IDR 100 million).
const MAX_PRICE_IDR: i64 = 100_000_000;
const MAX_TIERS: usize = 10;

/// What a customer can buy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingTier {
    pub id: String,
    pub label: String,
    pub duration_minutes: i64,
    pub price_idr: i64,
}

/// Where customers reach support; a channel not set is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportHandles {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Typed values of every knob, read without I/O from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    pub mitra_stale_after_seconds: i64,
    pub mitra_accept_timeout_seconds: i64,
    pub extension_timeout_seconds: i64,
    pub max_customers_per_mitra: i64,
    pub pricing_tiers: Vec<PricingTier>,
    pub support_handles: SupportHandles,
    pub otp_resend_cooldown_seconds: i64,
    pub otp_max_per_phone_per_hour: i64,
    pub otp_max_per_ip_per_hour: i64,
    pub otp_verify_max_per_ip_per_hour: i64,
    pub anonymous_sign_in_max_per_ip_per_hour: i64,
    pub refresh_max_per_session_per_hour: i64,
    pub refresh_max_per_ip_per_hour: i64,
    pub payment_window_seconds: i64,
    pub match_wait_seconds: i64,
    pub chat_end_warning_seconds: i64,
    pub extension_payment_grace_seconds: i64,
    pub mitra_revenue_share_percent: i64,
}

/// The body of `GET /api/shared/config`: prices, support handles and the
/// timings the apps must honour. One type for the document and the answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppConfig<'a> {
    pub pricing_tiers: &'a [PricingTier],
    pub support_handles: &'a SupportHandles,
    /// Seconds between a mitra app's heartbeats (env, fixed per deploy).
    #[schema(example = 30)]
    pub mitra_heartbeat_cadence_seconds: i64,
    #[schema(example = 60)]
    pub mitra_accept_timeout_seconds: i64,
    #[schema(example = 60)]
    pub extension_timeout_seconds: i64,
    #[schema(example = 60)]
    pub otp_resend_cooldown_seconds: i64,
}

/// The apps' config document (`GET /api/shared/config`) and its ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicConfig {
    /// A JSON object, keys in a stable order.
    pub json: String,
    /// A hash of `json`: it changes exactly when the document does.
    pub etag: String,
}

impl Knobs {
    /// What the apps may read before sign-in: tiers, support handles, and
    /// the values they must honour.
    pub fn public_config(&self, env: &EnvKnobs) -> PublicConfig {
        let json = serde_json::to_string(&AppConfig {
            pricing_tiers: &self.pricing_tiers,
            support_handles: &self.support_handles,
            mitra_heartbeat_cadence_seconds: env.mitra_heartbeat_cadence_seconds,
            mitra_accept_timeout_seconds: self.mitra_accept_timeout_seconds,
            extension_timeout_seconds: self.extension_timeout_seconds,
            otp_resend_cooldown_seconds: self.otp_resend_cooldown_seconds,
        })
        .expect("the app config serialises");
        let digest = Sha256::digest(json.as_bytes());
        PublicConfig {
            etag: format!(
                "\"{}\"",
                digest[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
            json,
        }
    }

    pub fn from_values(values: &BTreeMap<String, Value>) -> anyhow::Result<Self> {
        fn get<T: serde::de::DeserializeOwned>(
            values: &BTreeMap<String, Value>,
            key: &str,
        ) -> anyhow::Result<T> {
            let value = values
                .get(key)
                .ok_or_else(|| anyhow::anyhow!("app_config has no `{key}`; run the migrations"))?;
            serde_json::from_value(value.clone())
                .map_err(|e| anyhow::anyhow!("app_config `{key}`: {e}"))
        }
        Ok(Self {
            mitra_stale_after_seconds: get(values, "mitra_stale_after_seconds")?,
            mitra_accept_timeout_seconds: get(values, "mitra_accept_timeout_seconds")?,
            extension_timeout_seconds: get(values, "extension_timeout_seconds")?,
            max_customers_per_mitra: get(values, "max_customers_per_mitra")?,
            pricing_tiers: get(values, "pricing_tiers")?,
            support_handles: get(values, "support_handles_json")?,
            otp_resend_cooldown_seconds: get(values, "otp_resend_cooldown_seconds")?,
            otp_max_per_phone_per_hour: get(values, "otp_max_per_phone_per_hour")?,
            otp_max_per_ip_per_hour: get(values, "otp_max_per_ip_per_hour")?,
            otp_verify_max_per_ip_per_hour: get(values, "otp_verify_max_per_ip_per_hour")?,
            anonymous_sign_in_max_per_ip_per_hour: get(
                values,
                "anonymous_sign_in_max_per_ip_per_hour",
            )?,
            refresh_max_per_session_per_hour: get(values, "refresh_max_per_session_per_hour")?,
            refresh_max_per_ip_per_hour: get(values, "refresh_max_per_ip_per_hour")?,
            payment_window_seconds: get(values, "payment_window_seconds")?,
            match_wait_seconds: get(values, "match_wait_seconds")?,
            chat_end_warning_seconds: get(values, "chat_end_warning_seconds")?,
            extension_payment_grace_seconds: get(values, "extension_payment_grace_seconds")?,
            mitra_revenue_share_percent: get(values, "mitra_revenue_share_percent")?,
        })
    }
}

/// Integer bounds in force, with env-derived ones applied.
pub fn bounds(knob: &Knob, env: &EnvKnobs) -> Option<(i64, i64)> {
    match knob.kind {
        Kind::Integer { min, max } if knob.key == "mitra_stale_after_seconds" => {
            Some((min.max(2 * env.mitra_heartbeat_cadence_seconds), max))
        }
        Kind::Integer { min, max } => Some((min, max)),
        _ => None,
    }
}

/// The env-derived values a knob is checked against, shown beside it.
pub fn depends_on(knob: &Knob, env: &EnvKnobs) -> Value {
    match knob.key {
        "mitra_stale_after_seconds" => {
            json!({"MITRA_HEARTBEAT_CADENCE_SECONDS": env.mitra_heartbeat_cadence_seconds})
        }
        "pricing_tiers" => json!({"PAYMENT_MIN_AMOUNT_IDR": env.payment_min_amount_idr}),
        _ => json!({}),
    }
}

fn field_error(field: impl Into<String>, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Validates a proposed value; returns it normalised (e.g. a WhatsApp
/// number in E.164) or every problem found, each naming its field.
pub fn validate(knob: &Knob, value: &Value, env: &EnvKnobs) -> Result<Value, Vec<FieldError>> {
    match knob.kind {
        Kind::Integer { .. } => validate_integer(knob, value, env).map_err(|e| vec![e]),
        Kind::PricingTiers => validate_tiers(value, env),
        Kind::SupportHandles => validate_handles(value),
    }
}

fn validate_integer(knob: &Knob, value: &Value, env: &EnvKnobs) -> Result<Value, FieldError> {
    let number = value
        .as_i64()
        .ok_or_else(|| field_error(knob.key, "invalid_type", "must be a whole number"))?;
    let (min, max) = bounds(knob, env).expect("integer knobs have bounds");
    if knob.key == "mitra_stale_after_seconds" && number < min {
        return Err(field_error(
            knob.key,
            "below_heartbeat_bound",
            format!(
                "must be at least {min} (twice MITRA_HEARTBEAT_CADENCE_SECONDS = {}), or mitras flap offline",
                env.mitra_heartbeat_cadence_seconds
            ),
        ));
    }
    if !(min..=max).contains(&number) {
        return Err(field_error(
            knob.key,
            "out_of_range",
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(json!(number))
}

fn validate_tiers(value: &Value, env: &EnvKnobs) -> Result<Value, Vec<FieldError>> {
    const KEY: &str = "pricing_tiers";
    let Some(items) = value.as_array() else {
        return Err(vec![field_error(
            KEY,
            "invalid_type",
            "must be a list of tiers",
        )]);
    };
    if items.is_empty() || items.len() > MAX_TIERS {
        return Err(vec![field_error(
            KEY,
            "invalid_length",
            format!("must list 1 to {MAX_TIERS} tiers"),
        )]);
    }
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut tiers = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |field: &str| format!("{KEY}[{i}].{field}");
        if let Some(price) = item.get("price_idr")
            && price.is_number()
            && price.as_i64().is_none()
        {
            errors.push(field_error(
                at("price_idr"),
                "not_whole_rupiah",
                "prices are whole rupiah",
            ));
            continue;
        }
        let tier: PricingTier = match serde_json::from_value(item.clone()) {
            Ok(tier) => tier,
            Err(e) => {
                errors.push(field_error(
                    format!("{KEY}[{i}]"),
                    "invalid_tier",
                    format!("a tier is {{id, label, duration_minutes, price_idr}}: {e}"),
                ));
                continue;
            }
        };
        let id_ok = !tier.id.is_empty()
            && tier.id.len() <= 32
            && tier
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            errors.push(field_error(
                at("id"),
                "invalid_id",
                "1-32 of a-z, 0-9, _ or -",
            ));
        } else if !seen.insert(tier.id.clone()) {
            errors.push(field_error(
                at("id"),
                "duplicate_id",
                format!("`{}` is used twice", tier.id),
            ));
        }
        let label_len = tier.label.trim().chars().count();
        if label_len == 0 || label_len > 40 {
            errors.push(field_error(
                at("label"),
                "invalid_label",
                "1 to 40 characters",
            ));
        }
        if !(5..=240).contains(&tier.duration_minutes) {
            errors.push(field_error(
                at("duration_minutes"),
                "invalid_duration",
                "between 5 and 240 minutes",
            ));
        }
        if tier.price_idr < env.payment_min_amount_idr {
            errors.push(field_error(
                at("price_idr"),
                "below_payment_minimum",
                format!(
                    "the payment provider's minimum is IDR {}",
                    env.payment_min_amount_idr
                ),
            ));
        } else if tier.price_idr > MAX_PRICE_IDR {
            errors.push(field_error(
                at("price_idr"),
                "too_high",
                format!("at most IDR {MAX_PRICE_IDR}"),
            ));
        }
        tiers.push(PricingTier {
            label: tier.label.trim().to_owned(),
            ..tier
        });
    }
    if errors.is_empty() {
        Ok(serde_json::to_value(tiers).expect("tiers serialise"))
    } else {
        Err(errors)
    }
}

fn validate_handles(value: &Value) -> Result<Value, Vec<FieldError>> {
    const KEY: &str = "support_handles_json";
    let Some(object) = value.as_object() else {
        return Err(vec![field_error(
            KEY,
            "invalid_type",
            "must be an object {whatsapp, instagram, email}",
        )]);
    };
    let mut errors = Vec::new();
    let mut handles = SupportHandles::default();
    for (name, raw) in object {
        let at = format!("{KEY}.{name}");
        if raw.is_null() {
            continue;
        }
        let Some(text) = raw.as_str().map(str::trim) else {
            errors.push(field_error(at, "invalid_type", "must be text"));
            continue;
        };
        match name.as_str() {
            "whatsapp" => match Phone::parse(text) {
                Ok(phone) => handles.whatsapp = Some(phone.as_str().to_owned()),
                Err(_) => errors.push(field_error(
                    at,
                    "invalid_whatsapp",
                    "a WhatsApp phone number, e.g. +6281234567890",
                )),
            },
            "instagram" => {
                let handle = text.trim_start_matches('@');
                let ok = !handle.is_empty()
                    && handle.len() <= 30
                    && handle
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
                if ok {
                    handles.instagram = Some(handle.to_owned());
                } else {
                    errors.push(field_error(
                        at,
                        "invalid_instagram",
                        "an Instagram handle: letters, digits, . and _, at most 30",
                    ));
                }
            }
            "email" => {
                let ok = text.len() <= 254
                    && !text.contains(char::is_whitespace)
                    && text.split_once('@').is_some_and(|(local, domain)| {
                        !local.is_empty()
                            && domain.contains('.')
                            && !domain.starts_with('.')
                            && !domain.ends_with('.')
                    });
                if ok {
                    handles.email = Some(text.to_owned());
                } else {
                    errors.push(field_error(
                        at,
                        "invalid_email",
                        "an email address, e.g. support@halobestie.id",
                    ));
                }
            }
            _ => errors.push(field_error(
                at,
                "unknown_handle",
                "known handles: whatsapp, instagram, email",
            )),
        }
    }
    if errors.is_empty() {
        Ok(serde_json::to_value(handles).expect("handles serialise"))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: EnvKnobs = EnvKnobs {
        mitra_heartbeat_cadence_seconds: 30,
        payment_min_amount_idr: 10_000,
    };

    fn errors(key: &str, value: Value) -> Vec<(String, String)> {
        validate(knob(key).unwrap(), &value, &ENV)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn stale_after_must_be_twice_the_heartbeat_cadence() {
        assert_eq!(
            errors("mitra_stale_after_seconds", json!(59)),
            [pair("mitra_stale_after_seconds", "below_heartbeat_bound")]
        );
        assert!(validate(knob("mitra_stale_after_seconds").unwrap(), &json!(60), &ENV).is_ok());
    }

    #[test]
    fn integers_outside_their_bounds_or_not_integers_are_refused() {
        assert_eq!(
            errors("max_customers_per_mitra", json!(0)),
            [pair("max_customers_per_mitra", "out_of_range")]
        );
        assert_eq!(
            errors("max_customers_per_mitra", json!(21)),
            [pair("max_customers_per_mitra", "out_of_range")]
        );
        assert_eq!(
            errors("extension_timeout_seconds", json!("60")),
            [pair("extension_timeout_seconds", "invalid_type")]
        );
        assert_eq!(
            errors("extension_timeout_seconds", json!(60.5)),
            [pair("extension_timeout_seconds", "invalid_type")]
        );
    }

    #[test]
    fn every_bad_pricing_tier_field_is_reported_with_its_path() {
        let tiers = json!([
            {"id": "chat_30", "label": "30 menit", "duration_minutes": 30, "price_idr": 25000},
            {"id": "chat_30", "label": "", "duration_minutes": 0, "price_idr": 5000},
            {"id": "Bad Id!", "label": "x", "duration_minutes": 30, "price_idr": 25000.5},
            {"id": "big", "label": "x", "duration_minutes": 30, "price_idr": 200000000},
            {"id": "extra", "label": "x", "duration_minutes": 30, "price_idr": 20000, "color": "red"},
        ]);
        assert_eq!(
            errors("pricing_tiers", tiers),
            [
                pair("pricing_tiers[1].id", "duplicate_id"),
                pair("pricing_tiers[1].label", "invalid_label"),
                pair("pricing_tiers[1].duration_minutes", "invalid_duration"),
                pair("pricing_tiers[1].price_idr", "below_payment_minimum"),
                pair("pricing_tiers[2].price_idr", "not_whole_rupiah"),
                pair("pricing_tiers[3].price_idr", "too_high"),
                pair("pricing_tiers[4]", "invalid_tier"),
            ]
        );
        assert_eq!(
            errors("pricing_tiers", json!([])),
            [pair("pricing_tiers", "invalid_length")]
        );
        assert_eq!(
            errors("pricing_tiers", json!({})),
            [pair("pricing_tiers", "invalid_type")]
        );
    }

    #[test]
    fn support_handles_are_checked_and_normalised() {
        let ok = validate(
            knob("support_handles_json").unwrap(),
            &json!({"whatsapp": "0812-3456-7890", "instagram": "@halobestie.id", "email": null}),
            &ENV,
        )
        .unwrap();
        assert_eq!(
            ok,
            json!({"whatsapp": "+6281234567890", "instagram": "halobestie.id"})
        );
        assert_eq!(
            errors(
                "support_handles_json",
                json!({"whatsapp": "call me", "instagram": "no spaces", "email": "a@b", "tiktok": "x"})
            ),
            [
                pair("support_handles_json.email", "invalid_email"),
                pair("support_handles_json.instagram", "invalid_instagram"),
                pair("support_handles_json.tiktok", "unknown_handle"),
                pair("support_handles_json.whatsapp", "invalid_whatsapp"),
            ]
        );
    }
}
