//! Random secrets and the bcrypt pool: bcrypt runs on its own
//! low-priority threads, never the async workers, so a burst of logins or
//! refreshes queues rather than starving request handling of CPU.

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};

/// 32 random bytes (256 bits), base64url.
pub fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>())
}

/// A six-digit code, leading zeros kept.
pub fn random_otp_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// A bcrypt hash of a random secret, made on first use. Checking a
/// presented secret against it costs what checking a real hash does, so an
/// unknown account or session answers in the same time as a wrong secret.
#[derive(Clone, Default)]
pub struct DecoyHash(Arc<tokio::sync::OnceCell<String>>);

impl DecoyHash {
    /// Verifies `secret` against the decoy; the answer is always "no".
    pub async fn verify(&self, bcrypt: &Bcrypt, secret: String, cost: u32) -> anyhow::Result<()> {
        let hash = self
            .0
            .get_or_try_init(|| bcrypt.hash(random_secret(), cost))
            .await?;
        bcrypt.verify(secret, hash.clone()).await?;
        Ok(())
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A small pool of low-priority threads that runs every bcrypt job, never on
/// the async workers. Lower priority (nice ~9) lets the request-handling
/// threads of this and neighbouring processes preempt a refresh storm, so
/// token checks and other requests keep their latency; when nothing else
/// wants the CPU, bcrypt still gets all of it.
#[derive(Clone)]
pub struct Bcrypt {
    jobs: std::sync::mpsc::Sender<Job>,
}

/// About nice 9 on Linux (thread-priority maps 0-99 onto nice 20..-20).
const BCRYPT_THREAD_PRIORITY: u8 = 25;

impl Bcrypt {
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("bcrypt-{n}"))
                .spawn(move || {
                    let lowered = ThreadPriorityValue::try_from(BCRYPT_THREAD_PRIORITY)
                        .map_err(|e| e.to_string())
                        .and_then(|p| {
                            set_current_thread_priority(ThreadPriority::Crossplatform(p))
                                .map_err(|e| e.to_string())
                        });
                    if let Err(err) = lowered {
                        tracing::warn!(error = %err, "bcrypt thread keeps normal priority");
                    }
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every sender is gone
                        }
                    }
                })
                .expect("spawning a bcrypt thread");
        }
        Self { jobs }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let span = tracing::info_span!("bcrypt");
        self.jobs
            .send(Box::new(move || {
                // The caller gave up (its deadline passed while the job
                // queued): skip the work rather than burn CPU nobody awaits.
                if done.is_closed() {
                    return;
                }
                let _ = done.send(span.in_scope(job));
            }))
            .map_err(|_| anyhow::anyhow!("the bcrypt pool has stopped"))?;
        Ok(result.await?)
    }

    pub async fn hash(&self, secret: String, cost: u32) -> anyhow::Result<String> {
        Ok(self.run(move || bcrypt::hash(secret, cost)).await??)
    }

    /// False for a wrong secret and for a malformed stored hash alike.
    pub async fn verify(&self, secret: String, hash: String) -> anyhow::Result<bool> {
        self.run(move || bcrypt::verify(secret, &hash).unwrap_or(false))
            .await
    }

    /// Verifies `secret` against `hash` and, if it matches, makes a new
    /// secret and its hash, in one job: a refresh queues once rather than
    /// twice, so under a burst each one finishes in turn instead of all of
    /// them finishing late together.
    pub async fn verify_then_rehash(
        &self,
        secret: String,
        hash: String,
        cost: u32,
    ) -> anyhow::Result<Option<(String, String)>> {
        self.run(move || {
            if !bcrypt::verify(secret, &hash).unwrap_or(false) {
                return Ok(None);
            }
            let fresh = random_secret();
            bcrypt::hash(&fresh, cost).map(|hash| Some((fresh, hash)))
        })
        .await?
        .map_err(Into::into)
    }
}
