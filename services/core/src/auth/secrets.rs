//! Random secrets and the bcrypt pool. bcrypt runs on Tokio's blocking
//! threads, never the async workers, and at most `bcrypt_concurrency` jobs
//! at once so a burst of logins or refreshes queues rather than starving
//! every other thread of CPU.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use tokio::sync::Semaphore;
use tracing::Instrument;

/// 32 random bytes (256 bits), base64url.
pub fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>())
}

/// A six-digit code, leading zeros kept.
pub fn random_otp_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

#[derive(Clone)]
pub struct Bcrypt {
    permits: Arc<Semaphore>,
}

impl Bcrypt {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await?;
        let span = tracing::info_span!("bcrypt");
        let result = tokio::task::spawn_blocking(move || span.in_scope(job))
            .instrument(tracing::Span::current())
            .await?;
        Ok(result)
    }

    pub async fn hash(&self, secret: String, cost: u32) -> anyhow::Result<String> {
        Ok(self.run(move || bcrypt::hash(secret, cost)).await??)
    }

    /// False for a wrong secret and for a malformed stored hash alike.
    pub async fn verify(&self, secret: String, hash: String) -> anyhow::Result<bool> {
        self.run(move || bcrypt::verify(secret, &hash).unwrap_or(false))
            .await
    }
}
