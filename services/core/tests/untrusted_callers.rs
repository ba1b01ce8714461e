//! The core trusts no caller: what an edge would have refused is refused
//! here too, as a field error rather than a database failure.

use halo_core::testing::{config, spawn};
use halo_testkit::TestDb;

#[tokio::test]
async fn the_core_refuses_control_characters_that_an_edge_would_have_refused() {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let auth = &core.state.auth;
    let user = auth.sign_in_anonymous("127.0.0.1").await.unwrap();
    let user_id = user.principal.unwrap().id.parse().unwrap();

    let refused = [
        auth.update_profile(user_id, "Sinta\u{0}").await.err(),
        auth.cc_login("a\u{0}@b.id", "pw", "127.0.0.1").await.err(),
        core.state
            .settings
            .update(
                &core.state.settings.snapshot().version.to_string(),
                &serde_json::json!({"support_handles_json": {"email": "a\u{0}@b.id"}}),
                &halo_audit::Actor {
                    operator_id: uuid::Uuid::now_v7(),
                    request_id: None,
                    client_ip: None,
                },
            )
            .await
            .err(),
    ];
    for error in refused {
        let error = halo_proto::ApiError::from(error.expect("refused"));
        assert_eq!(error.code, "validation_failed");
        assert_eq!(error.details[0].code, "invalid_characters");
    }
}
