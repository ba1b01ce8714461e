//! The core's credential logic, called directly (no edge, no gRPC): OTP
//! codes, refresh-token rotation with reuse detection, and who a code signs
//! in. The edges' tests show the same rules through HTTP.

use std::time::Duration;

use halo_auth::UserType;
use halo_core::auth::otp::Audience;
use halo_core::error::CoreError;
use halo_core::testing::TestStack;
use halo_proto::v1;

const IP: &str = "127.0.0.1";

async fn code_for(stack: &TestStack, phone_e164: &str, audience: Audience) -> String {
    stack
        .core
        .state
        .auth
        .otp
        .request(phone_e164, audience, IP)
        .await
        .expect("a code is sent");
    stack.core.otp.last_code(phone_e164).expect("recorded")
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
async fn a_code_works_once_and_five_wrong_guesses_kill_it_even_for_the_right_code() {
    let stack = TestStack::start(&[]).await;
    let auth = &stack.core.state.auth;
    let phone = "+6281234500001";

    let code = code_for(&stack, phone, Audience::Customer).await;
    let pair = auth
        .verify_otp(phone, &code, Audience::Customer, None, IP)
        .await
        .unwrap();
    assert_eq!(pair.principal.unwrap().phone.as_deref(), Some(phone));
    let again = auth
        .verify_otp(phone, &code, Audience::Customer, None, IP)
        .await
        .unwrap_err();
    assert!(matches!(again, CoreError::OtpUsed), "{again:?}");

    stack.pass_otp_cooldown().await;
    let code = code_for(&stack, phone, Audience::Customer).await;
    for _ in 0..5 {
        let guess = auth
            .verify_otp(phone, wrong(&code), Audience::Customer, None, IP)
            .await
            .unwrap_err();
        assert!(
            matches!(
                guess,
                CoreError::OtpWrongCode | CoreError::OtpAttemptsExceeded
            ),
            "{guess:?}"
        );
    }
    let dead = auth
        .verify_otp(phone, &code, Audience::Customer, None, IP)
        .await
        .unwrap_err();
    assert!(matches!(dead, CoreError::OtpAttemptsExceeded), "{dead:?}");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let stack = TestStack::start(&[("OTP_CODE_TTL_SECONDS", "30")]).await;
    let phone = "+6281234500002";
    let code = code_for(&stack, phone, Audience::Customer).await;
    sqlx::query("UPDATE auth.otp_challenges SET expires_at = now() - interval '1 second'")
        .execute(&stack.db.pool)
        .await
        .unwrap();
    let error = stack
        .core
        .state
        .auth
        .verify_otp(phone, &code, Audience::Customer, None, IP)
        .await
        .unwrap_err();
    assert!(matches!(error, CoreError::OtpExpired), "{error:?}");
}

#[tokio::test]
async fn a_mitra_code_signs_in_only_an_active_registered_mitra() {
    let stack = TestStack::start(&[]).await;
    let auth = &stack.core.state.auth;
    let phone = "+6281234500003";
    let Err(refused) = auth.otp.request(phone, Audience::Mitra, IP).await else {
        panic!("an unregistered phone got a mitra code");
    };
    assert!(
        matches!(refused, CoreError::MitraNotRegistered),
        "{refused:?}"
    );

    let mitra = stack.register_mitra(phone).await;
    stack.pass_otp_cooldown().await;
    let code = code_for(&stack, phone, Audience::Mitra).await;
    let pair = auth
        .verify_otp(phone, &code, Audience::Mitra, None, IP)
        .await
        .unwrap();
    let principal = pair.principal.unwrap();
    assert_eq!(principal.id, mitra.to_string());
    assert_eq!(principal.user_type(), v1::UserType::Mitra);
}

#[tokio::test]
async fn a_rotated_token_replayed_after_the_grace_window_revokes_the_whole_session() {
    let stack = TestStack::start(&[("REFRESH_REUSE_GRACE_SECONDS", "1")]).await;
    let sessions = &stack.core.state.auth.sessions;
    let first = stack.core.state.auth.sign_in_anonymous(IP).await.unwrap();
    let customer = [UserType::Customer];

    let second = sessions
        .refresh(&first.refresh_token, &customer, IP)
        .await
        .unwrap();
    // A lost answer: the app retries the previous token at once.
    let retried = sessions.refresh(&first.refresh_token, &customer, IP).await;
    assert!(retried.is_ok(), "a retry within the grace window works");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let replay = sessions
        .refresh(&second.refresh_token, &customer, IP)
        .await
        .unwrap_err();
    assert!(
        matches!(replay, CoreError::RefreshTokenReused),
        "{replay:?}"
    );
    let live = sessions
        .refresh(&retried.unwrap().refresh_token, &customer, IP)
        .await
        .unwrap_err();
    assert!(
        matches!(live, CoreError::SessionRevoked),
        "the newest token died with its session: {live:?}"
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_leave_one_live_token() {
    let stack = TestStack::start(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let auth = &stack.core.state.auth;
    let pair = auth.sign_in_anonymous(IP).await.unwrap();
    let attempts = (0..6).map(|_| {
        auth.sessions
            .refresh(&pair.refresh_token, &[UserType::Customer], IP)
    });
    let results = futures_util::future::join_all(attempts).await;
    assert!(results.iter().any(Result::is_ok), "one refresh wins");
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
         WHERE t.rotated_at IS NULL AND s.revoked_at IS NULL",
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert!(live <= 1, "{live} live refresh tokens");
}
