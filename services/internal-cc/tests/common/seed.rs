//! Data for the operations tests: app users signed in through the core
//! (so their sessions and refresh tokens are real) and chats written as
//! the chats feature leaves them.

use halo_core::testing::{TEST_SERVICE_SECRET, TestStack};
use halo_proto::v1;
use halo_web::{CoreClient, CoreClientConfig, TokenGrant};
use sqlx::PgPool;
use uuid::Uuid;

/// A client of the stack's core, as an edge holds one.
pub fn core_client(stack: &TestStack) -> CoreClient {
    CoreClient::connect_lazy(&CoreClientConfig {
        url: stack.core.url.clone(),
        service_secret: TEST_SERVICE_SECRET.to_owned().into(),
    })
    .unwrap()
}

/// Signs `phone` in by OTP on the app of `audience`.
pub async fn sign_in(
    stack: &TestStack,
    phone: &str,
    audience: v1::OtpAudience,
) -> Result<TokenGrant, halo_proto::ApiError> {
    let core = core_client(stack);
    stack.pass_otp_cooldown().await;
    core.request_otp(phone.into(), audience, "127.0.0.1".into())
        .await?;
    let e164 = halo_auth::Phone::parse(phone).unwrap().to_string();
    let code = stack.core.otp.last_code(&e164).unwrap();
    core.verify_otp(phone.into(), code, audience, None, "127.0.0.1".into())
        .await
}

/// What [`active_chat`] made.
pub struct SeededChat {
    pub customer: Uuid,
    pub mitra: Uuid,
    pub order: Uuid,
    pub chat: Uuid,
}

/// A customer, a mitra (online) and a paid order whose chat is running,
/// with `messages` messages alternating from each side.
pub async fn active_chat(db: &PgPool, messages: usize) -> SeededChat {
    let (customer, mitra, order, chat) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let phone = format!("+62812{:07}", rand_digits());
    sqlx::query(
        "WITH c AS (INSERT INTO users (id, user_type, phone, display_name) VALUES ($1, 'customer', $5, 'Rina')),
              m AS (INSERT INTO users (id, user_type, phone, display_name) VALUES ($2, 'mitra', $6, 'Dewi')),
              pr AS (INSERT INTO mitra_presence (mitra_id, status) VALUES ($2, 'online')),
              o AS (INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                                        duration_minutes, amount_idr, allow_fallback, status, paid_at, invoice_id)
                    VALUES ($3, $1, 'k', '\\x00', 'chat_30', '30 menit', 30, 25000, true, 'paid', now(), $3::text)),
              ch AS (INSERT INTO chats (id, order_id, customer_id, allow_fallback, duration_minutes, status,
                                        mitra_id, match_deadline, started_at, ends_at)
                     VALUES ($4, $3, $1, true, 30, 'active', $2, now(), now(), now() + interval '30 minutes'))
         INSERT INTO chat_offers (chat_id, mitra_id, outcome) VALUES ($4, $2, 'accepted')",
    )
    .bind(customer)
    .bind(mitra)
    .bind(order)
    .bind(chat)
    .bind(&phone)
    .bind(format!("+62813{:07}", rand_digits()))
    .execute(db)
    .await
    .expect("chat seeded");
    for n in 0..messages {
        let (sender, sender_id) = if n % 2 == 0 {
            ("customer", customer)
        } else {
            ("mitra", mitra)
        };
        sqlx::query(
            "INSERT INTO chat_messages (chat_id, sender, sender_id, client_msg_id, body)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(chat)
        .bind(sender)
        .bind(sender_id)
        .bind(format!("m{n}"))
        .bind(format!("pesan {n}"))
        .execute(db)
        .await
        .expect("message seeded");
    }
    SeededChat {
        customer,
        mitra,
        order,
        chat,
    }
}

fn rand_digits() -> u32 {
    Uuid::new_v4().as_u128() as u32 % 10_000_000
}

/// The audit entries for `target_id`, oldest first: (actor, action).
pub async fn audit_of(db: &PgPool, target_id: impl ToString) -> Vec<(Uuid, String)> {
    sqlx::query_as("SELECT actor_id, action FROM audit_log WHERE target_id = $1 ORDER BY id")
        .bind(target_id.to_string())
        .fetch_all(db)
        .await
        .unwrap()
}

impl super::TestCc {
    pub async fn get(&self, path: &str, access: &str) -> halo_testkit::Answer {
        self.send(self.http.get(self.url(path)).bearer_auth(access))
            .await
    }

    pub async fn post(
        &self,
        path: &str,
        access: &str,
        body: serde_json::Value,
    ) -> halo_testkit::Answer {
        self.send(
            self.http
                .post(self.url(path))
                .bearer_auth(access)
                .json(&body),
        )
        .await
    }

    pub async fn patch(
        &self,
        path: &str,
        access: &str,
        body: serde_json::Value,
    ) -> halo_testkit::Answer {
        self.send(
            self.http
                .patch(self.url(path))
                .bearer_auth(access)
                .json(&body),
        )
        .await
    }

    /// A new CC user of `role` and their access token.
    pub async fn signed_in(&self, role: &str) -> (Uuid, String) {
        let email = format!("{}@cc.test", Uuid::now_v7().simple());
        let id = self.add_operator(&email, role).await;
        (id, self.access_token(&email).await)
    }
}
