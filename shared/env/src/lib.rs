//! Env-driven knobs (the seed's config-source convention): one getter per
//! knob, a default only where a default is safe, and start-up errors that name
//! the variable. Each service reads its env once, in `main`, through [`Env`].
//! Also the one shutdown signal every binary waits on.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use secrecy::SecretString;

/// A bad or missing variable; the message names it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvError {
    #[error("{name} is required but not set{hint}")]
    Missing { name: String, hint: String },
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

/// A snapshot of the variables a service reads; tests build one from a map.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment, read once.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// Every variable, e.g. to start a child process with them.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets or replaces one variable (tests, and per-service defaults).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(name.to_owned(), value.into());
        self
    }

    /// The trimmed value; empty counts as unset.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// A value with no default and no minimum length (not a secret), e.g. a
    /// deployment's role that must be stated.
    pub fn required(&self, name: &str) -> Result<String, EnvError> {
        self.optional(name).ok_or_else(|| EnvError::Missing {
            name: name.to_owned(),
            hint: String::new(),
        })
    }

    /// A parsed value, or `default` when unset (the seed's
    /// `getMitraHeartbeatCadenceSeconds` pattern).
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| EnvError::Invalid {
                name: name.to_owned(),
                value: raw.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// An integer within inclusive bounds, or `default` when unset.
    pub fn int_in(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, EnvError> {
        let value = self.parse_or(name, default)?;
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(EnvError::Invalid {
                name: name.to_owned(),
                value: value.to_string(),
                reason: format!("must be between {min} and {max}"),
            })
        }
    }

    /// A secret with no default; too short is as bad as missing.
    pub fn secret(&self, name: &str, min_len: usize) -> Result<SecretString, EnvError> {
        let value = self
            .vars
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| EnvError::Missing {
                name: name.to_owned(),
                hint: format!(" (a secret of at least {min_len} bytes; there is no default)"),
            })?;
        if value.len() < min_len {
            return Err(EnvError::Invalid {
                name: name.to_owned(),
                value: "<redacted>".to_owned(),
                reason: format!("must be at least {min_len} bytes, got {}", value.len()),
            });
        }
        Ok(SecretString::from(value.clone()))
    }

    /// A comma-separated list; unset or empty gives an empty list.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Resolves on SIGTERM (what Cloud Run sends) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn an_unset_knob_falls_back_to_its_default() {
        let env = Env::default();
        assert_eq!(
            env.parse_or("MITRA_HEARTBEAT_CADENCE_SECONDS", 30u32),
            Ok(30)
        );
    }

    #[test]
    fn a_malformed_number_names_the_variable() {
        let env = Env::from_pairs([("MITRA_HEARTBEAT_CADENCE_SECONDS", "thirty")]);
        let err = env
            .parse_or("MITRA_HEARTBEAT_CADENCE_SECONDS", 30u32)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("MITRA_HEARTBEAT_CADENCE_SECONDS=\"thirty\" is invalid")
        );
    }

    #[test]
    fn a_number_out_of_bounds_is_refused() {
        let env = Env::from_pairs([("BCRYPT_COST", "40")]);
        let err = env.int_in("BCRYPT_COST", 10, 4, 31).unwrap_err();
        assert!(err.to_string().contains("between 4 and 31"));
    }

    #[test]
    fn a_short_secret_is_refused_without_echoing_it() {
        let env = Env::from_pairs([("AUTH_JWT_SECRET", "hunter2")]);
        let err = env.secret("AUTH_JWT_SECRET", 32).unwrap_err().to_string();
        assert!(err.contains("AUTH_JWT_SECRET"));
        assert!(!err.contains("hunter2"));
    }

    #[test]
    fn a_missing_secret_has_no_default() {
        let err = Env::default().secret("AUTH_JWT_SECRET", 32).unwrap_err();
        assert!(matches!(err, EnvError::Missing { .. }));
        let ok = Env::from_pairs([("AUTH_JWT_SECRET", &"x".repeat(32)[..])]);
        assert_eq!(
            ok.secret("AUTH_JWT_SECRET", 32)
                .unwrap()
                .expose_secret()
                .len(),
            32
        );
    }

    #[test]
    fn a_list_ignores_blanks() {
        let env = Env::from_pairs([("GOOGLE_CLIENT_IDS", " a.apps , ,b.apps ")]);
        assert_eq!(env.list("GOOGLE_CLIENT_IDS"), vec!["a.apps", "b.apps"]);
    }
}
