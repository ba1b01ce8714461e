//! What an authenticated request costs before it does its own work: the
//! access-token check at the edge, and reading a DB knob from the core's
//! settings cache. Run: `cargo bench --workspace --bench hot_paths`
//! (needs Postgres at TEST_DATABASE_URL to load the settings once).
//! Plain timing loops, no harness: the question is "is the knob read lost
//! in the noise of the token check", which nanosecond means answer.

use std::hint::black_box;
use std::time::{Duration, Instant};

use halo_auth::{AccessTokens, UserType};
use halo_core::testing::{TEST_JWT_SECRET, config};

fn per_op(iterations: u32, mut op: impl FnMut()) -> Duration {
    for _ in 0..iterations / 10 {
        op(); // warm-up
    }
    let started = Instant::now();
    for _ in 0..iterations {
        op();
    }
    started.elapsed() / iterations
}

#[tokio::main]
async fn main() {
    let tokens = AccessTokens::new(
        &TEST_JWT_SECRET.to_owned().into(),
        Duration::from_secs(3600),
    );
    let token = tokens.issue(
        uuid::Uuid::now_v7(),
        UserType::Customer,
        uuid::Uuid::now_v7(),
    );
    let verify = per_op(200_000, || {
        black_box(tokens.verify(black_box(&token)).unwrap());
    });

    let db = halo_testkit::TestDb::new().await;
    let state = halo_core::build_state(
        &config(&db.url, &[]),
        db.pool.clone(),
        halo_core::stub_otp_sender(),
    )
    .await
    .unwrap();
    let settings = state.settings.clone();
    let knob_read = per_op(2_000_000, || {
        black_box(settings.snapshot().knobs.max_customers_per_mitra);
    });

    println!("| hot path | time per call |");
    println!("|---|---|");
    println!("| access-token check (HS256 verify + claims) | {verify:?} |");
    println!("| DB knob read from the settings cache | {knob_read:?} |");
    println!(
        "knob read / token check: {:.2} %",
        100.0 * knob_read.as_secs_f64() / verify.as_secs_f64()
    );
}
