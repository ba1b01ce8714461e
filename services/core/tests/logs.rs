//! What the core's logs tell an operator: a user's mistake is not an
//! ERROR (nobody gets paged for a mistyped code), and a fault of ours is,
//! with its cause and the request id that finds the edge's lines too.

use halo_core::testing::{TEST_SERVICE_SECRET, config, spawn};
use halo_proto::v1;
use halo_telemetry::{RequestContext, scope_request};
use halo_testkit::{CapturedLogs, TestDb};
use halo_web::{CoreClient, CoreClientConfig};

fn client_of(url: &str) -> CoreClient {
    CoreClient::connect_lazy(&CoreClientConfig {
        url: url.to_owned(),
        service_secret: TEST_SERVICE_SECRET.to_owned().into(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_wrong_otp_code_and_a_wrong_password_are_logged_below_error() {
    halo_core::install_crypto_provider();
    let logs = CapturedLogs::start();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let client = client_of(&core.url);
    let phone = "+6281234567890";
    client
        .request_otp(phone.into(), v1::OtpAudience::Customer, "127.0.0.1".into())
        .await
        .unwrap();
    let sent = core.otp.last_code(phone).unwrap();
    let wrong = if sent == "000000" { "111111" } else { "000000" };

    let wrong_code = client
        .verify_otp(
            phone.into(),
            wrong.into(),
            v1::OtpAudience::Customer,
            None,
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    let wrong_password = client
        .cc_login(
            "nobody@halobestie.id".into(),
            "not the password".into(),
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();

    assert_eq!(wrong_code.http_status(), http::StatusCode::BAD_REQUEST);
    assert_eq!(wrong_password.http_status(), http::StatusCode::UNAUTHORIZED);
    assert_eq!(logs.at("ERROR"), Vec::<String>::new());
    let info = logs.at("INFO");
    assert!(
        info.iter().any(|line| line.contains("wrong code")),
        "the wrong code is still on record: {info:#?}"
    );
}

#[tokio::test]
async fn a_failing_query_is_logged_at_error_with_its_cause_and_request_id() {
    halo_core::install_crypto_provider();
    let logs = CapturedLogs::start();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    sqlx::query("ALTER TABLE auth.sessions RENAME TO sessions_moved")
        .execute(&db.pool)
        .await
        .unwrap();

    let context = RequestContext {
        request_id: "req-query-fault".into(),
        traceparent: None,
    };
    let error = scope_request(
        context,
        client_of(&core.url).sign_in_anonymous("127.0.0.1".into()),
    )
    .await
    .unwrap_err();

    assert_eq!(error.http_status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!error.message.contains("sessions"), "{error:?}");
    let errors = logs.at("ERROR");
    assert!(
        errors.iter().any(|line| line.contains("req-query-fault")
            && line.contains("relation \\\"auth.sessions\\\" does not exist")),
        "no error line with the cause and the request id: {errors:#?}"
    );
}
