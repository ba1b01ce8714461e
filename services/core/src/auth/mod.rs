//! Issuing credentials: anonymous, phone OTP, Google/Apple and CC password
//! sign-in, each ending in a session ([`sessions`]). The gRPC adapter in
//! `grpc::auth` is a thin layer over [`Auth`].

pub mod accounts;
pub mod cc;
pub mod limits;
pub mod otp;
pub mod providers;
pub mod secrets;
pub mod sessions;
pub mod users;

use std::sync::Arc;

use halo_auth::UserType;
use halo_proto::text::{TextRule, clean_text};
use halo_proto::v1;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::caller::{Callers, Surface};
use crate::error::{CoreError, CoreResult};
use otp::{Audience, Otp};
use providers::{IdTokenVerifier, Provider};
use sessions::Sessions;
use users::load_principal;

#[derive(Clone)]
pub struct Auth {
    pub sessions: Sessions,
    pub otp: Otp,
    pub id_tokens: Arc<IdTokenVerifier>,
    pub cc: cc::CcPasswords,
    pub callers: Callers,
    pub surface: Surface,
}

impl Auth {
    /// A new anonymous customer: each one is a user row and a session, so
    /// they are limited per IP (generously: carriers NAT many phones
    /// behind one address).
    pub async fn sign_in_anonymous(&self, client_ip: &str) -> CoreResult<v1::TokenPair> {
        let per_ip = self
            .sessions
            .settings
            .snapshot()
            .knobs
            .anonymous_sign_in_max_per_ip_per_hour;
        limits::hit(
            &self.sessions.pool,
            limits::Bucket::AnonymousSignInPerIp,
            client_ip,
            per_ip,
        )
        .await?;
        let fresh = self.sessions.fresh_secret().await?;
        let mut tx = self.sessions.pool.begin().await?;
        let id = users::create_customer(&mut tx, true, None).await?;
        let principal = load_principal(&mut tx, UserType::Customer, id).await?;
        let pair = self
            .sessions
            .start(&mut tx, principal, fresh, false)
            .await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Verifies a code and signs in. For customers: the phone's existing
    /// account if there is one; else the calling anonymous (or phone-less)
    /// customer, upgraded in place; else a new customer. If the phone already
    /// belongs to another customer, that account is signed in and the
    /// anonymous one is left as it was (`upgraded` is false), since the code
    /// proves the caller owns the phone's account.
    #[tracing::instrument(skip_all, fields(audience = audience.as_str()), err(level = "info", Display))]
    pub async fn verify_otp(
        &self,
        raw_phone: &str,
        code: &str,
        audience: Audience,
        upgrade_user_id: Option<Uuid>,
        client_ip: &str,
    ) -> CoreResult<v1::TokenPair> {
        let phone = self
            .otp
            .verify(raw_phone, code, audience, client_ip)
            .await?;
        let fresh = self.sessions.fresh_secret().await?;
        let mut tx = self.sessions.pool.begin().await?;
        let (user_type, user_id, upgraded) = match audience {
            Audience::Mitra => {
                let id: Uuid = sqlx::query_scalar(
                    "SELECT id FROM users WHERE user_type = 'mitra' AND phone = $1 AND status = 'active'",
                )
                .bind(phone.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(CoreError::MitraNotRegistered)?;
                (UserType::Mitra, id, false)
            }
            Audience::Customer => {
                let existing: Option<Uuid> = sqlx::query_scalar(
                    "SELECT id FROM users WHERE user_type = 'customer' AND phone = $1",
                )
                .bind(phone.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                match existing {
                    Some(id) => (UserType::Customer, id, false),
                    None => {
                        let upgraded = match upgrade_user_id {
                            Some(id) => {
                                users::upgrade_with_phone(&mut tx, id, phone.as_str()).await?
                            }
                            None => false,
                        };
                        match (upgraded, upgrade_user_id) {
                            (true, Some(id)) => (UserType::Customer, id, true),
                            _ => (
                                UserType::Customer,
                                users::create_customer(&mut tx, false, Some(phone.as_str()))
                                    .await?,
                                false,
                            ),
                        }
                    }
                }
            }
        };
        let pair = self
            .finish(&mut tx, user_type, user_id, fresh, upgraded)
            .await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// Google/Apple sign-in for customers, with the same upgrade rule as OTP.
    pub async fn sign_in_with_provider(
        &self,
        provider: Provider,
        id_token: &str,
        nonce: Option<&str>,
        upgrade_user_id: Option<Uuid>,
    ) -> CoreResult<v1::TokenPair> {
        let identity = self.id_tokens.verify(provider, id_token, nonce).await?;
        let fresh = self.sessions.fresh_secret().await?;
        let mut tx = self.sessions.pool.begin().await?;
        let existing: Option<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM auth.identities WHERE provider = $1 AND subject = $2",
        )
        .bind(provider.as_str())
        .bind(&identity.subject)
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, upgraded) = match existing {
            Some(id) => (id, false),
            None => {
                let upgraded = match upgrade_user_id {
                    Some(id) => users::upgrade_anonymous(&mut tx, id).await?,
                    None => false,
                };
                let user_id = match (upgraded, upgrade_user_id) {
                    (true, Some(id)) => id,
                    _ => users::create_customer(&mut tx, false, None).await?,
                };
                sqlx::query(
                    "INSERT INTO auth.identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)",
                )
                .bind(provider.as_str())
                .bind(&identity.subject)
                .bind(user_id)
                .bind(&identity.email)
                .execute(&mut *tx)
                .await?;
                (user_id, upgraded)
            }
        };
        let pair = self
            .finish(&mut tx, UserType::Customer, user_id, fresh, upgraded)
            .await?;
        tx.commit().await?;
        Ok(pair)
    }

    pub async fn cc_login(
        &self,
        email: &str,
        password: &str,
        client_ip: &str,
    ) -> CoreResult<v1::TokenPair> {
        let id = self.cc.check(email, password, client_ip).await?;
        let fresh = self.sessions.fresh_secret().await?;
        let mut tx = self.sessions.pool.begin().await?;
        let pair = self
            .finish(&mut tx, UserType::CcUser, id, fresh, false)
            .await?;
        tx.commit().await?;
        Ok(pair)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        user_type: UserType,
        user_id: Uuid,
        fresh: sessions::FreshSecret,
        upgraded: bool,
    ) -> CoreResult<v1::TokenPair> {
        let principal = load_principal(tx, user_type, user_id).await?;
        principal.require_active()?;
        self.sessions.start(tx, principal, fresh, upgraded).await
    }

    pub async fn update_profile(
        &self,
        user_id: Uuid,
        display_name: &str,
    ) -> CoreResult<v1::Principal> {
        let display_name = clean_text("display_name", display_name, TextRule::DisplayName)?;
        if display_name.is_empty() || display_name.chars().count() > 60 {
            return Err(CoreError::invalid(
                "display_name",
                "invalid_display_name",
                "a display name is 1 to 60 characters",
            ));
        }
        let mut conn = self.sessions.pool.acquire().await?;
        let user_type = users::update_display_name(&mut conn, user_id, &display_name).await?;
        Ok(load_principal(&mut conn, user_type, user_id).await?.proto)
    }
}
