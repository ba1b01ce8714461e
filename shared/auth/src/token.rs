//! The access token: a JWT signed with HS256 and `AUTH_JWT_SECRET`, carrying
//! `{sub, user_type, session_id, iat, exp}`. Nothing else is accepted.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who a principal is; decides which namespace they may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserType {
    Customer,
    Mitra,
    CcUser,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Mitra => "mitra",
            Self::CcUser => "cc_user",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "customer" => Some(Self::Customer),
            "mitra" => Some(Self::Mitra),
            "cc_user" => Some(Self::CcUser),
            _ => None,
        }
    }
}

/// The access token's claims; any other claim makes the token invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub sub: Uuid,
    pub user_type: UserType,
    pub session_id: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Why a token was refused. Expired is told apart so apps know to refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

/// Signs and verifies access tokens. Cheap to clone.
#[derive(Clone)]
pub struct AccessTokens {
    inner: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokens")
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

/// Clock skew tolerated on `exp` between instances.
const LEEWAY_SECONDS: u64 = 30;

impl AccessTokens {
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        let key = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            inner: Arc::new(Keys {
                encoding: EncodingKey::from_secret(key),
                decoding: DecodingKey::from_secret(key),
                validation,
                ttl,
            }),
        }
    }

    /// How long an issued token lives.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Signs a token for a session, valid for [`Self::ttl`].
    pub fn issue(&self, user_id: Uuid, user_type: UserType, session_id: Uuid) -> String {
        let now = chrono::Utc::now().timestamp();
        self.sign(&Claims {
            sub: user_id,
            user_type,
            session_id,
            iat: now,
            exp: now + self.inner.ttl.as_secs() as i64,
        })
    }

    /// Signs arbitrary claims (tests make expired tokens with it).
    pub fn sign(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.inner.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &self.inner.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    fn tokens() -> AccessTokens {
        AccessTokens::new(
            &SecretString::from("test-secret-that-is-at-least-32-bytes!!"),
            Duration::from_secs(3600),
        )
    }

    fn forge(header: serde_json::Value, claims: serde_json::Value, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string()),
            signature
        )
    }

    fn valid_claims() -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        serde_json::json!({
            "sub": Uuid::new_v4(), "user_type": "customer", "session_id": Uuid::new_v4(),
            "iat": now, "exp": now + 600,
        })
    }

    #[test]
    fn an_issued_token_verifies_to_its_claims() {
        let (user, session) = (Uuid::new_v4(), Uuid::new_v4());
        let claims = tokens()
            .verify(&tokens().issue(user, UserType::Mitra, session))
            .unwrap();
        assert_eq!(
            (claims.sub, claims.user_type, claims.session_id),
            (user, UserType::Mitra, session)
        );
        assert_eq!(claims.exp - claims.iat, 3600);
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let token = forge(
            serde_json::json!({"alg": "none", "typ": "JWT"}),
            valid_claims(),
            "",
        );
        assert_eq!(tokens().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_rs256_header_is_refused_even_with_an_hmac_signature() {
        let good = tokens().sign(&serde_json::from_value(valid_claims()).unwrap());
        let signature = good.rsplit('.').next().unwrap();
        let token = forge(
            serde_json::json!({"alg": "RS256", "typ": "JWT"}),
            valid_claims(),
            signature,
        );
        assert_eq!(tokens().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let good = tokens().issue(Uuid::new_v4(), UserType::Customer, Uuid::new_v4());
        let parts: Vec<&str> = good.split('.').collect();
        let mut claims = valid_claims();
        claims["user_type"] = "cc_user".into();
        let token = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(claims.to_string()),
            parts[2]
        );
        assert_eq!(tokens().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = AccessTokens::new(
            &SecretString::from("another-secret-that-is-32-bytes-long!!"),
            Duration::from_secs(60),
        );
        let token = other.issue(Uuid::new_v4(), UserType::Customer, Uuid::new_v4());
        assert_eq!(tokens().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_is_told_apart_from_a_bad_one() {
        let mut claims: Claims = serde_json::from_value(valid_claims()).unwrap();
        claims.exp = chrono::Utc::now().timestamp() - 120;
        assert_eq!(
            tokens().verify(&tokens().sign(&claims)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn missing_or_unknown_claims_are_refused() {
        let mut missing = valid_claims();
        missing.as_object_mut().unwrap().remove("session_id");
        let mut unknown_type = valid_claims();
        unknown_type["user_type"] = "admin".into();
        let mut extra = valid_claims();
        extra["role"] = "admin".into();
        for claims in [missing, unknown_type, extra] {
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(b"test-secret-that-is-at-least-32-bytes!!"),
            )
            .unwrap();
            assert_eq!(
                tokens().verify(&token),
                Err(TokenError::Invalid),
                "{claims}"
            );
        }
    }
}
