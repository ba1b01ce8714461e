//! What operators and the edges see of the core over gRPC: reflection
//! (`grpcurl list`, both v1 and v1alpha), the standard health service, and
//! errors that keep their code across the hop.

use halo_core::testing::{config, spawn};
use halo_proto::v1;
use halo_testkit::TestDb;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Asks a reflection service for its service list the way grpcurl (v1) or
/// grpc_cli and Google's Python client (v1alpha) do; the two versions have
/// the same messages in different packages.
macro_rules! list_services {
    ($version:ident, $url:expr) => {{
        use tonic_reflection::pb::$version::ServerReflectionRequest;
        use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut answers = ServerReflectionClient::new(channel($url).await)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .expect("the reflection service of this version is served")
            .into_inner();
        match answers.message().await.unwrap().unwrap().message_response {
            Some(MessageResponse::ListServicesResponse(list)) => list
                .service
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<String>>(),
            other => panic!("not a service list: {other:?}"),
        }
    }};
}

#[tokio::test]
async fn reflection_lists_the_core_services_to_v1_and_v1alpha_clients_alike() {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let v1 = list_services!(v1, &core.url);
    let v1alpha = list_services!(v1alpha, &core.url);
    for names in [&v1, &v1alpha] {
        for expected in [
            "halo.core.v1.AuthService",
            "halo.core.v1.ConfigService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_health_service_reports_serving() {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let answer = HealthClient::new(channel(&core.url).await)
        .check(HealthCheckRequest {
            service: "halo.core.v1.AuthService".into(),
        })
        .await
        .unwrap();
    assert_eq!(answer.into_inner().status, 1, "SERVING");
}

#[tokio::test]
async fn a_domain_error_arrives_at_the_caller_with_its_stable_code() {
    halo_core::install_crypto_provider();
    let db = TestDb::new().await;
    let core = spawn(&config(&db.url, &[]), db.pool.clone()).await;
    let client = halo_web::CoreClient::connect_lazy(&halo_web::CoreClientConfig {
        url: core.url.clone(),
        service_secret: halo_core::testing::TEST_SERVICE_SECRET.to_owned().into(),
    })
    .unwrap();
    let error = client
        .request_otp("12".into(), v1::OtpAudience::Customer, "127.0.0.1".into())
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), http::StatusCode::BAD_REQUEST);
    assert_eq!(error.details[0].code, "invalid_phone");
}
