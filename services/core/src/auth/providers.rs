//! Google and Apple sign-in: an ID token is verified against the provider's
//! JWKS (fetched with reqwest, cached per `Cache-Control`, refetched when a
//! token names an unknown `kid`), its issuer, audience, expiry and nonce.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::config::ProviderConfig;
use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    Apple,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Apple => "apple",
        }
    }
}

/// What a verified ID token says about its holder.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    pub subject: String,
    pub email: Option<String>,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    email: Option<String>,
    nonce: Option<String>,
}

struct CachedKeys {
    keys: JwkSet,
    fresh_until: Instant,
    fetched_at: Instant,
}

/// Used when the provider sends no `max-age`.
const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` refetches at most this often, so forged kids cannot
/// make us hammer the provider.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(1);

pub struct IdTokenVerifier {
    http: reqwest::Client,
    configs: HashMap<Provider, ProviderConfig>,
    cache: RwLock<HashMap<Provider, CachedKeys>>,
}

impl IdTokenVerifier {
    pub fn new(google: ProviderConfig, apple: ProviderConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            http,
            configs: HashMap::from([(Provider::Google, google), (Provider::Apple, apple)]),
            cache: RwLock::new(HashMap::new()),
        })
    }

    #[tracing::instrument(skip_all, fields(provider = provider.as_str()), err(level = "info", Display))]
    pub async fn verify(
        &self,
        provider: Provider,
        id_token: &str,
        nonce: Option<&str>,
    ) -> CoreResult<VerifiedIdentity> {
        let config = &self.configs[&provider];
        if config.audiences.is_empty() {
            return Err(CoreError::ProviderNotConfigured);
        }
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|_| CoreError::InvalidIdToken("malformed token"))?;
        if header.alg != Algorithm::RS256 {
            return Err(CoreError::InvalidIdToken("unexpected signing algorithm"));
        }
        let kid = header
            .kid
            .ok_or(CoreError::InvalidIdToken("token names no key"))?;
        let key = self.key(provider, config, &kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&config.audiences);
        validation.set_issuer(&config.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 60;
        let claims = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind as K;
                CoreError::InvalidIdToken(match err.kind() {
                    K::ExpiredSignature => "token expired",
                    K::InvalidAudience => "token is for another app",
                    K::InvalidIssuer => "token from another issuer",
                    K::InvalidSignature => "bad signature",
                    _ => "token could not be verified",
                })
            })?
            .claims;
        if let Some(expected) = nonce {
            // Apple puts SHA-256(raw nonce) in the token when the app passes
            // a hashed nonce, as Apple's guides do; accept either form.
            let hashed = format!("{:x}", Sha256::digest(expected.as_bytes()));
            match claims.nonce.as_deref() {
                Some(got) if got == expected || (provider == Provider::Apple && got == hashed) => {}
                _ => return Err(CoreError::InvalidIdToken("nonce does not match")),
            }
        }
        Ok(VerifiedIdentity {
            subject: claims.sub,
            email: claims.email,
        })
    }

    async fn key(
        &self,
        provider: Provider,
        config: &ProviderConfig,
        kid: &str,
    ) -> CoreResult<DecodingKey> {
        let may_refetch = {
            let cache = self.cache.read().await;
            match cache.get(&provider) {
                Some(cached) if cached.fresh_until > Instant::now() => {
                    if let Some(key) = find(&cached.keys, kid) {
                        return key;
                    }
                    cached.fetched_at.elapsed() >= MIN_REFETCH_INTERVAL
                }
                _ => true,
            }
        };
        if !may_refetch {
            return Err(CoreError::InvalidIdToken("unknown signing key"));
        }
        let mut cache = self.cache.write().await;
        // Another request may have refreshed while we waited for the lock.
        if let Some(cached) = cache.get(&provider)
            && cached.fetched_at.elapsed() < MIN_REFETCH_INTERVAL
            && let Some(key) = find(&cached.keys, kid)
        {
            return key;
        }
        let fetched = self.fetch(config).await?;
        let key = find(&fetched.keys, kid);
        cache.insert(provider, fetched);
        key.unwrap_or(Err(CoreError::InvalidIdToken("unknown signing key")))
    }

    async fn fetch(&self, config: &ProviderConfig) -> CoreResult<CachedKeys> {
        let response = self
            .http
            .get(&config.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|err| {
                tracing::warn!(error = %err, "JWKS fetch failed");
                CoreError::ProviderUnavailable
            })?;
        let ttl = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_JWKS_TTL);
        let keys: JwkSet = response.json().await.map_err(|err| {
            tracing::warn!(error = %err, "JWKS response was not a key set");
            CoreError::ProviderUnavailable
        })?;
        let now = Instant::now();
        Ok(CachedKeys {
            keys,
            fresh_until: now + ttl,
            fetched_at: now,
        })
    }
}

fn find(keys: &JwkSet, kid: &str) -> Option<CoreResult<DecodingKey>> {
    keys.find(kid).map(|jwk| {
        DecodingKey::from_jwk(jwk).map_err(|_| CoreError::InvalidIdToken("provider key unusable"))
    })
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=19876, must-revalidate"),
            Some(Duration::from_secs(19876))
        );
        assert_eq!(max_age("no-cache"), None);
    }
}
