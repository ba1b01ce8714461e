//! What the core's logs tell an operator: a user's mistake is not an
//! ERROR (nobody gets paged for a mistyped code), and a fault of ours is,
//! with its cause and the request id that finds the edge's lines too.

use halo_core::testing::{config, spawn};
use halo_proto::v1::{self, auth_service_client::AuthServiceClient};
use halo_testkit::{CapturedLogs, TestDb};

fn with_request_id<T>(message: T, request_id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert(halo_proto::REQUEST_ID_METADATA, request_id.parse().unwrap());
    request
}

#[tokio::test]
async fn a_wrong_otp_code_and_a_wrong_password_are_logged_below_error() {
    halo_core::install_crypto_provider();
    let logs = CapturedLogs::start();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let mut client = AuthServiceClient::connect(core.url.clone()).await.unwrap();
    let phone = "+6281234567890";
    client
        .request_otp(v1::RequestOtpRequest {
            phone: phone.into(),
            audience: v1::OtpAudience::Customer.into(),
            client_ip: "127.0.0.1".into(),
        })
        .await
        .unwrap();
    let sent = core.otp.last_code(phone).unwrap();
    let wrong = if sent == "000000" { "111111" } else { "000000" };

    let wrong_code = client
        .verify_otp(v1::VerifyOtpRequest {
            phone: phone.into(),
            code: wrong.into(),
            audience: v1::OtpAudience::Customer.into(),
            upgrade_user_id: None,
        })
        .await
        .unwrap_err();
    let wrong_password = client
        .cc_login(v1::CcLoginRequest {
            email: "nobody@halobestie.id".into(),
            password: "not the password".into(),
            client_ip: "127.0.0.1".into(),
        })
        .await
        .unwrap_err();

    assert_eq!(wrong_code.code(), tonic::Code::InvalidArgument);
    assert_eq!(wrong_password.code(), tonic::Code::Unauthenticated);
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

    let status = AuthServiceClient::connect(core.url.clone())
        .await
        .unwrap()
        .sign_in_anonymous(with_request_id(
            v1::SignInAnonymousRequest {},
            "req-query-fault",
        ))
        .await
        .unwrap_err();

    assert_eq!(status.code(), tonic::Code::Internal);
    assert!(!status.message().contains("sessions"), "{status:?}");
    let errors = logs.at("ERROR");
    assert!(
        errors.iter().any(|line| line.contains("req-query-fault")
            && line.contains("relation \\\"auth.sessions\\\" does not exist")),
        "no error line with the cause and the request id: {errors:#?}"
    );
}
