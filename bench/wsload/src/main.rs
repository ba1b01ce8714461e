//! `halo-wsload`: drives `GET /api/shared/ws` of our gateway or of the
//! reference relay (the same `message` / `ack` / `error` frames).
//!
//!   halo-wsload fixtures --out F --pairs N          (DATABASE_URL, AUTH_JWT_SECRET)
//!   halo-wsload load --fixtures F --url-a A --url-b B --pairs N --rate R --duration S [--warmup S]
//!   halo-wsload idle --fixtures F --url A --count N --hold S --pid P [--warm W]
//!
//! `load` opens each pair's customer on A and mitra on B, then sends R
//! messages a second in all, round robin over every customer and then
//! every mitra (a chat's reply comes half a round after its message),
//! 64-character bodies. The send time rides in the
//! body, so the receiver's clock (the same process) gives the delivery
//! latency. It prints one JSON line: acks and deliveries with p50/p99/max
//! in ms, lost, errors, and its own CPU per message. `idle`
//! opens W sockets first (the allocator's and runtime's first-use costs),
//! then N more, and prints the server's resident memory per added socket.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use uuid::Uuid;

/// One chat the generator may use: what wsload.js reads too.
#[derive(Serialize, Deserialize, Clone)]
struct Pair {
    chat_id: String,
    customer_token: String,
    mitra_token: String,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn required(args: &[String], name: &str) -> anyhow::Result<String> {
    arg(args, name).with_context(|| format!("{name} is required"))
}

fn number(args: &[String], name: &str, default: u64) -> anyhow::Result<u64> {
    arg(args, name).map_or(Ok(default), |v| {
        v.parse().with_context(|| format!("{name} is a number"))
    })
}

// One thread: the generator shares the two cores with the servers it
// measures, and a single event loop pays no wakes across threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("fixtures") => fixtures(&args).await,
        Some("load") => load(&args).await,
        Some("idle") => idle(&args).await,
        _ => bail!("usage: halo-wsload fixtures|load|idle ... (see the source's header)"),
    }
}

/// Fresh customers and mitras with an active chat each, and their tokens.
async fn fixtures(args: &[String]) -> anyhow::Result<()> {
    let out = required(args, "--out")?;
    let pairs = number(args, "--pairs", 1000)?;
    let db = sqlx::PgPool::connect(&std::env::var("DATABASE_URL").context("DATABASE_URL")?).await?;
    let secret: secrecy::SecretString = std::env::var("AUTH_JWT_SECRET")
        .context("AUTH_JWT_SECRET")?
        .into();
    let tokens = halo_auth::AccessTokens::new(&secret, Duration::from_secs(6 * 3600));
    let rows: Vec<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "WITH n AS (SELECT gen_random_uuid() AS customer, gen_random_uuid() AS mitra,
                           gen_random_uuid() AS chat, gen_random_uuid() AS ord, i
                    FROM generate_series(1, $1) i),
              c AS (INSERT INTO users (id, user_type, is_anonymous) SELECT customer, 'customer', true FROM n),
              m AS (INSERT INTO users (id, user_type, phone)
                    SELECT mitra, 'mitra', '+62819' || lpad(i::text, 8, '0') FROM n),
              o AS (INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                                        duration_minutes, amount_idr, mitra_id, allow_fallback, status, paid_at)
                    SELECT ord, customer, 'bench-' || i, '\\x00', 'chat_30', '30 menit', 30, 25000, mitra,
                           true, 'paid', now() FROM n),
              ch AS (INSERT INTO chats (id, order_id, customer_id, chosen_mitra_id, allow_fallback,
                                        duration_minutes, status, mitra_id, match_deadline, started_at, ends_at)
                     SELECT chat, ord, customer, mitra, true, 30, 'active', mitra, now(), now(),
                            now() + interval '1 day' FROM n)
         SELECT chat, customer, mitra FROM n",
    )
    .bind(pairs as i64)
    .fetch_all(&db)
    .await?;
    let fixtures: Vec<Pair> = rows
        .into_iter()
        .map(|(chat, customer, mitra)| Pair {
            chat_id: chat.to_string(),
            customer_token: tokens.issue(customer, halo_auth::UserType::Customer, Uuid::new_v4()),
            mitra_token: tokens.issue(mitra, halo_auth::UserType::Mitra, Uuid::new_v4()),
        })
        .collect();
    std::fs::write(&out, serde_json::to_vec(&fixtures)?)?;
    eprintln!("{} pairs written to {out}", fixtures.len());
    Ok(())
}

fn read_fixtures(args: &[String]) -> anyhow::Result<Vec<Pair>> {
    let path = required(args, "--fixtures")?;
    Ok(serde_json::from_slice(
        &std::fs::read(&path).with_context(|| path.clone())?,
    )?)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request =
        format!("{}/api/shared/ws", base.replace("http://", "ws://")).into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    // The protocol layer's default 128 KiB read buffer is zeroed on every
    // read: with thousands of sockets that alone costs the generator (which
    // shares the cores with the servers) a fifth of a core.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    // Nagle off, as the reference's wsload.js (`ws`) has it: a frame is
    // never held back waiting for the previous one's ACK.
    let (socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    Ok(socket)
}

/// What the run's sockets record, by sequence number.
struct Samples {
    /// Latencies in microseconds.
    acks: Vec<u64>,
    deliveries: Vec<u64>,
    delivered: Vec<bool>,
    /// Deliveries of a message already delivered.
    duplicates: u64,
    errors: HashMap<String, u64>,
}

fn summary(mut samples: Vec<u64>) -> Value {
    samples.sort_unstable();
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    json!({"count": samples.len(), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)})
}

/// An `ack` or a `message` frame: the only part read is the body. Borrowed,
/// so a frame costs one pass and no allocation.
#[derive(Deserialize)]
struct Carrying<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    message: Body<'a>,
}

#[derive(Deserialize)]
struct Body<'a> {
    body: &'a str,
}

/// An `error` frame (its `message` is text, not a record).
#[derive(Deserialize)]
struct Refused<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    code: Cow<'a, str>,
}

/// Bodies are 64 characters, as the reference's wsload.js sends by default:
/// `<run>:<micros since start>:<seq>:`, then padding.
const BODY_PADDING: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// One load run, shared by its sockets.
struct Run {
    /// In every message id and body: the servers store messages
    /// idempotently, and a run reusing an earlier run's ids on the same
    /// chats would be answered with the stored messages, not measured.
    id: String,
    start: Instant,
    /// Sequence numbers below this are warm-up.
    first_measured: u64,
    samples: Mutex<Samples>,
}

impl Run {
    fn micros(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn frame(&self, chat: &str, seq: u64) -> String {
        let head = format!("{}:{}:{seq}:", self.id, self.micros());
        let padding = &BODY_PADDING[head.len().min(BODY_PADDING.len())..];
        format!(
            r#"{{"type":"message","chat_id":"{chat}","client_msg_id":"{}-{seq}","body":"{head}{padding}"}}"#,
            self.id
        )
    }

    /// Times one frame from the server: an ack (of this socket's own
    /// message) or a delivery (from the other side), from the send time in
    /// its body.
    fn record(&self, text: &str) {
        let Ok(frame) = serde_json::from_str::<Carrying>(text) else {
            if let Ok(refused) = serde_json::from_str::<Refused>(text)
                && refused.kind == "error"
            {
                let mut samples = self.samples.lock().unwrap();
                *samples.errors.entry(refused.code.into_owned()).or_default() += 1;
            }
            return;
        };
        let mut fields = frame.message.body.split(':');
        if fields.next() != Some(self.id.as_str()) {
            return; // not this run's
        }
        let (Some(Ok(sent)), Some(Ok(seq))) = (
            fields.next().map(str::parse::<u64>),
            fields.next().map(str::parse::<usize>),
        ) else {
            return;
        };
        if (seq as u64) < self.first_measured {
            return; // warm-up
        }
        let latency = self.micros().saturating_sub(sent);
        // A plain lock held for a push: the generator shares the cores with
        // the servers, and an async lock per frame costs more.
        let mut samples = self.samples.lock().unwrap();
        match frame.kind {
            "ack" => samples.acks.push(latency),
            "message" => match samples.delivered.get_mut(seq) {
                Some(seen) if !*seen => {
                    *seen = true;
                    samples.deliveries.push(latency);
                }
                Some(_) => samples.duplicates += 1,
                None => {}
            },
            _ => {}
        }
    }
}

/// One socket's task: sends what the pacer hands it (stamped with the time
/// it goes out) and times what arrives. One task per socket, so a slow
/// socket never holds up the others and nothing crosses tasks per frame
/// but the pacer's sequence number.
async fn drive(
    mut socket: Socket,
    chat: String,
    mut sends: mpsc::UnboundedReceiver<u64>,
    run: Arc<Run>,
) {
    loop {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(text))) => run.record(&text),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            seq = sends.recv() => {
                let Some(seq) = seq else { return };
                if socket.send(Message::text(run.frame(&chat, seq))).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn load(args: &[String]) -> anyhow::Result<()> {
    let fixtures = read_fixtures(args)?;
    let (url_a, url_b) = (required(args, "--url-a")?, required(args, "--url-b")?);
    let pairs = (number(args, "--pairs", fixtures.len() as u64)? as usize).min(fixtures.len());
    let rate = number(args, "--rate", 1000)?;
    let duration = Duration::from_secs(number(args, "--duration", 20)?);
    let warmup = Duration::from_secs(number(args, "--warmup", 3)?);
    let total = ((warmup + duration).as_secs_f64() * rate as f64) as u64;
    let first_measured = (warmup.as_secs_f64() * rate as f64) as u64;
    let mut id = Uuid::new_v4().simple().to_string();
    id.truncate(8);
    let run = Arc::new(Run {
        id,
        start: Instant::now(),
        first_measured,
        samples: Mutex::new(Samples {
            acks: Vec::new(),
            deliveries: Vec::new(),
            delivered: vec![false; total as usize],
            duplicates: 0,
            errors: HashMap::new(),
        }),
    });
    let connecting = Arc::new(Semaphore::new(64));
    let mut opened = Vec::new();
    for pair in fixtures.iter().take(pairs).cloned() {
        let (url_a, url_b, connecting) = (url_a.clone(), url_b.clone(), connecting.clone());
        opened.push(tokio::spawn(async move {
            let _slot = connecting.acquire().await?;
            let customer = connect(&url_a, &pair.customer_token).await?;
            let mitra = connect(&url_b, &pair.mitra_token).await?;
            anyhow::Ok((pair.chat_id, customer, mitra))
        }));
    }
    // Every customer's lane, then every mitra's: a chat's reply follows
    // its message by half a round (as in a conversation), not by one send.
    let (mut customers, mut mitras) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for opening in opened {
        let (chat, customer, mitra) = opening.await??;
        for (socket, lanes) in [(customer, &mut customers), (mitra, &mut mitras)] {
            let (tx, rx) = mpsc::unbounded_channel::<u64>();
            tokio::spawn(drive(socket, chat.clone(), rx, run.clone()));
            lanes.push(tx);
        }
    }
    let lanes: Vec<_> = customers.into_iter().chain(mitras).collect();
    eprintln!("{pairs} pairs connected; the servers subscribe");
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for seq in 0..total {
        pace.tick().await;
        let _ = lanes[(seq as usize) % lanes.len()].send(seq);
    }
    // Let the last deliveries land.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu_us = own_cpu_seconds()? * 1e6;
    let samples = run.samples.lock().unwrap();
    let measured_sends = total - first_measured;
    let lost = samples.delivered[first_measured as usize..]
        .iter()
        .filter(|delivered| !**delivered)
        .count();
    let report = json!({
        "mode": "load", "pairs": pairs, "rate": rate, "duration_s": duration.as_secs(),
        "sent": measured_sends, "ack": summary(samples.acks.clone()),
        "delivery": summary(samples.deliveries.clone()), "lost": lost,
        "duplicates": samples.duplicates, "errors": samples.errors,
        // The generator's own share of the cores it shares with the servers.
        "generator_cpu_us_per_message": (cpu_us / total.max(1) as f64).round(),
    });
    println!("{report}");
    Ok(())
}

/// Opens `count` sockets with the tokens from `first` on, 64 at a time.
async fn open_many(
    url: &str,
    tokens: &[String],
    first: usize,
    count: usize,
) -> anyhow::Result<Vec<Socket>> {
    let connecting = Arc::new(Semaphore::new(64));
    let mut opening = Vec::with_capacity(count);
    for i in first..first + count {
        let (url, token, connecting) = (
            url.to_owned(),
            tokens[i % tokens.len()].clone(),
            connecting.clone(),
        );
        opening.push(tokio::spawn(async move {
            let _slot = connecting.acquire().await?;
            connect(&url, &token).await
        }));
    }
    let mut sockets = Vec::with_capacity(count);
    for socket in opening {
        sockets.push(socket.await??);
    }
    Ok(sockets)
}

/// User + system CPU seconds this process has used (`/proc/self/stat`).
fn own_cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which may hold spaces): state is the
    // 3rd field, utime and stime the 14th and 15th.
    let after_name = stat.rsplit_once(')').context("no command name")?.1;
    let mut fields = after_name.split_whitespace().skip(11);
    let mut next = || -> anyhow::Result<f64> { Ok(fields.next().context("short stat")?.parse()?) };
    let ticks = next()? + next()?;
    // USER_HZ is 100 on every Linux this runs on.
    Ok(ticks / 100.0)
}

fn resident_kib(pid: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

async fn idle(args: &[String]) -> anyhow::Result<()> {
    let fixtures = read_fixtures(args)?;
    let url = required(args, "--url")?;
    let count = number(args, "--count", 10_000)? as usize;
    let hold = Duration::from_secs(number(args, "--hold", 10)?);
    let pid = required(args, "--pid")?;
    let tokens: Vec<String> = fixtures
        .iter()
        .flat_map(|p| [p.customer_token.clone(), p.mitra_token.clone()])
        .collect();
    let warm = number(args, "--warm", 1000)? as usize;
    let mut sockets = open_many(&url, &tokens, 0, warm).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = resident_kib(&pid)?;
    sockets.extend(open_many(&url, &tokens, warm, count).await?);
    tokio::time::sleep(hold).await;
    let after = resident_kib(&pid)?;
    let per_socket = (after.saturating_sub(before) as f64 * 1024.0) / count as f64;
    println!(
        "{}",
        json!({"mode": "idle", "sockets": count, "rss_before_kib": before, "rss_after_kib": after,
               "bytes_per_socket": per_socket.round()})
    );
    drop(sockets);
    Ok(())
}
