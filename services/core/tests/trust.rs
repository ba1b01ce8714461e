//! The core trusts no caller: every call must carry the service credential,
//! a core serves only its surface's calls, and a call acts only for the user
//! of an access token the core verified itself.

use halo_auth::{Auth, UserType};
use halo_core::testing::{TEST_SERVICE_SECRET, TestStack, auth_of, config, spawn};
use halo_proto::v1::{self, auth_service_client::AuthServiceClient};
use halo_proto::{ApiError, SERVICE_CREDENTIAL_METADATA};
use halo_web::{CoreClient, CoreClientConfig};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

fn client_of(url: &str) -> CoreClient {
    CoreClient::connect_lazy(&CoreClientConfig {
        url: url.to_owned(),
        service_secret: TEST_SERVICE_SECRET.to_owned().into(),
    })
    .unwrap()
}

async fn raw_client(url: &str) -> AuthServiceClient<tonic::transport::Channel> {
    AuthServiceClient::connect(url.to_owned()).await.unwrap()
}

fn code(error: &ApiError) -> &str {
    error.code.as_ref()
}

/// A customer signed in by phone, with the credentials their app holds.
async fn customer(stack: &TestStack, core: &CoreClient, phone: &str) -> Auth {
    core.request_otp(phone.into(), v1::OtpAudience::Customer, "127.0.0.1".into())
        .await
        .unwrap();
    let e164 = halo_auth::Phone::parse(phone).unwrap().to_string();
    let code = stack.core.otp.last_code(&e164).unwrap();
    let pair = core
        .verify_otp(
            phone.into(),
            code,
            v1::OtpAudience::Customer,
            None,
            "127.0.0.1".into(),
        )
        .await
        .unwrap();
    auth_of(&pair.access_token)
}

#[tokio::test]
async fn a_call_without_the_service_credential_is_unauthenticated_on_every_surface() {
    let stack = TestStack::start(&[]).await;
    for surface in ["public", "internal", "all"] {
        let core = spawn(
            &config(&stack.db.url, &[("CORE_SURFACE", surface)]),
            stack.db.pool.clone(),
        )
        .await;
        let status = raw_client(&core.url)
            .await
            .refresh(v1::RefreshRequest {
                refresh_token: "x".into(),
                allowed_user_types: vec![v1::UserType::Customer.into()],
                client_ip: "127.0.0.1".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{surface}");
        assert_eq!(
            ApiError::from(status).code,
            "invalid_service_credential",
            "{surface}"
        );

        let mut wrong = tonic::Request::new(v1::SignInAnonymousRequest {
            client_ip: "127.0.0.1".into(),
        });
        wrong.metadata_mut().insert(
            SERVICE_CREDENTIAL_METADATA,
            "not-the-secret-not-the-secret-not-the-secret"
                .parse()
                .unwrap(),
        );
        let status = raw_client(&core.url)
            .await
            .sign_in_anonymous(wrong)
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{surface}");

        // Probes need no credential.
        let channel = tonic::transport::Channel::from_shared(core.url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let health = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await;
        assert!(health.is_ok(), "{surface}: health must stay open");
    }
}

#[tokio::test]
async fn the_public_surface_refuses_control_center_calls_and_the_internal_one_app_calls() {
    let stack = TestStack::start(&[]).await;
    let admin = stack.operator_session("admin").await;
    let public = spawn(
        &config(&stack.db.url, &[("CORE_SURFACE", "public")]),
        stack.db.pool.clone(),
    )
    .await;
    let internal = spawn(
        &config(&stack.db.url, &[("CORE_SURFACE", "internal")]),
        stack.db.pool.clone(),
    )
    .await;
    let public = client_of(&public.url);
    let internal = client_of(&internal.url);

    let refused = [
        public
            .cc_login("a@b.c".into(), "x".into(), "127.0.0.1".into())
            .await
            .unwrap_err(),
        public
            .update_settings(&admin, "1".into(), "{}".into(), "127.0.0.1".into())
            .await
            .unwrap_err(),
        public.settings(&admin).await.unwrap_err(),
        public
            .set_user_status(
                &admin,
                uuid::Uuid::now_v7(),
                v1::UserType::Mitra,
                v1::AccountStatus::Suspended,
                "127.0.0.1".into(),
            )
            .await
            .unwrap_err(),
        internal
            .sign_in_anonymous("127.0.0.1".into())
            .await
            .unwrap_err(),
        internal
            .request_otp(
                "081234567890".into(),
                v1::OtpAudience::Customer,
                "127.0.0.1".into(),
            )
            .await
            .unwrap_err(),
    ];
    for error in refused {
        assert_eq!(error.http_status(), http::StatusCode::FORBIDDEN);
        assert_eq!(code(&error), "rpc_not_served");
    }
    // Both serve what both edges need.
    assert!(public.knobs(0).await.is_ok());
    assert!(internal.knobs(0).await.is_ok());
    assert!(internal.settings(&admin).await.is_ok());
}

#[tokio::test]
async fn a_refresh_rotates_only_the_session_types_of_the_surface_and_never_for_an_empty_list() {
    let stack = TestStack::start(&[]).await;
    let public_core = spawn(
        &config(&stack.db.url, &[("CORE_SURFACE", "public")]),
        stack.db.pool.clone(),
    )
    .await;
    let public = client_of(&public_core.url);
    let all = client_of(&stack.core.url);
    let email = "ops@cc.test";
    stack.add_operator(email, "operator").await;
    let cc_pair = all
        .cc_login(
            email.into(),
            halo_core::testing::TEST_OPERATOR_PASSWORD.into(),
            "127.0.0.1".into(),
        )
        .await
        .unwrap();

    let error = public
        .refresh(
            cc_pair.refresh_token.clone(),
            &[UserType::Customer, UserType::Mitra, UserType::CcUser],
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&error), "invalid_refresh_token");
    let error = all
        .refresh(cc_pair.refresh_token.clone(), &[], "127.0.0.1".into())
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), http::StatusCode::BAD_REQUEST);
    // Neither refusal consumed the token.
    assert!(
        all.refresh(
            cc_pair.refresh_token,
            &[UserType::CcUser],
            "127.0.0.1".into()
        )
        .await
        .is_ok()
    );
}

#[tokio::test]
async fn a_profile_change_acts_for_the_user_of_the_forwarded_token_only() {
    let stack = TestStack::start(&[]).await;
    let core = client_of(&stack.core.url);
    let alice = customer(&stack, &core, "081234567001").await;
    let bob = customer(&stack, &core, "081234567002").await;

    let changed = core.update_profile(&alice, "Alice".into()).await.unwrap();
    assert_eq!(changed.id, alice.user_id.to_string());
    let names: Vec<(uuid::Uuid, Option<String>)> =
        sqlx::query_as("SELECT id, display_name FROM users WHERE id = ANY($1) ORDER BY id")
            .bind(vec![alice.user_id, bob.user_id])
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    for (id, name) in names {
        let expected = (id == alice.user_id).then(|| "Alice".to_owned());
        assert_eq!(name, expected, "only the token's user changes");
    }

    let forged = Auth {
        token: format!("{}x", alice.token).into(),
        ..alice.clone()
    };
    let error = core
        .update_profile(&forged, "Mallory".into())
        .await
        .unwrap_err();
    assert_eq!(code(&error), "invalid_token");
}

#[tokio::test]
async fn an_upgrade_is_for_the_forwarded_anonymous_customer_and_never_after_logout() {
    let stack = TestStack::start(&[]).await;
    let core = client_of(&stack.core.url);
    let anonymous = auth_of(
        &core
            .sign_in_anonymous("127.0.0.1".into())
            .await
            .unwrap()
            .access_token,
    );
    let phone = "081234567003";

    core.request_otp(phone.into(), v1::OtpAudience::Customer, "127.0.0.1".into())
        .await
        .unwrap();
    let code_sent = stack.core.otp.last_code("+6281234567003").unwrap();
    core.logout(&anonymous).await.unwrap();
    let error = core
        .verify_otp(
            phone.into(),
            code_sent.clone(),
            v1::OtpAudience::Customer,
            Some(&anonymous),
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        code(&error),
        "session_revoked",
        "a logged-out token upgrades nothing"
    );

    let anonymous = auth_of(
        &core
            .sign_in_anonymous("127.0.0.1".into())
            .await
            .unwrap()
            .access_token,
    );
    let pair = core
        .verify_otp(
            phone.into(),
            code_sent,
            v1::OtpAudience::Customer,
            Some(&anonymous),
            "127.0.0.1".into(),
        )
        .await
        .unwrap();
    assert!(pair.upgraded);
    assert_eq!(pair.principal.id, anonymous.user_id.to_string());
}

#[tokio::test]
async fn settings_change_only_for_a_live_admin_and_record_that_admin() {
    let stack = TestStack::start(&[]).await;
    let core = client_of(&stack.core.url);
    let admin = stack.operator_session("admin").await;
    let operator = stack.operator_session("operator").await;
    let customer = auth_of(
        &core
            .sign_in_anonymous("127.0.0.1".into())
            .await
            .unwrap()
            .access_token,
    );
    let version = core.settings(&admin).await.unwrap().version;
    let change = r#"{"max_customers_per_mitra": 5}"#;

    let error = core
        .update_settings(
            &customer,
            version.clone(),
            change.into(),
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&error), "wrong_user_type");
    let error = core
        .update_settings(
            &operator,
            version.clone(),
            change.into(),
            "127.0.0.1".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&error), "admin_only");

    core.update_settings(&admin, version, change.into(), "127.0.0.1".into())
        .await
        .unwrap();
    let actor: uuid::Uuid =
        sqlx::query_scalar("SELECT changed_by FROM app_config_changes ORDER BY id DESC LIMIT 1")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!(actor, admin.user_id);

    core.logout(&admin).await.unwrap();
    let version = core.settings(&operator).await.unwrap().version;
    let error = core
        .update_settings(&admin, version, change.into(), "127.0.0.1".into())
        .await
        .unwrap_err();
    assert_eq!(code(&error), "session_revoked");
}

#[tokio::test]
async fn blocking_a_customer_signs_out_every_session_of_theirs_and_needs_an_operator() {
    let stack = TestStack::start(&[]).await;
    let core = client_of(&stack.core.url);
    let operator = stack.operator_session("operator").await;
    let first = customer(&stack, &core, "081234567014").await;
    stack.pass_otp_cooldown().await;
    let second = customer(&stack, &core, "081234567014").await;
    assert_eq!(first.user_id, second.user_id);
    let block = |caller| {
        core.set_user_status(
            caller,
            first.user_id,
            v1::UserType::Customer,
            v1::AccountStatus::Blocked,
            "127.0.0.1".into(),
        )
    };

    let error = block(&second).await.unwrap_err();
    assert_eq!(code(&error), "wrong_user_type");

    let change = block(&operator).await.unwrap();
    assert_eq!(change.sessions_revoked, 2);
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM auth.sessions WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(first.user_id)
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(live, 0);
}
