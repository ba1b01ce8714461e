//! An FCM HTTP v1 double: a real HTTP server answering
//! `POST /v1/projects/{project}/messages:send` as FCM does, for the tests
//! and `deploy/local/run.sh` (it logs what it would deliver). Tokens
//! starting `unregistered` get 404 `UNREGISTERED`, `invalid` get 400
//! `INVALID_ARGUMENT`, and `throttled` get one 429 with `Retry-After: 1`
//! before they are accepted. A wrong bearer token is a 401.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Clone)]
struct Shared {
    bearer: String,
    delivered: Arc<Mutex<Vec<Value>>>,
    throttled_once: Arc<Mutex<HashSet<String>>>,
}

/// The double, serving until dropped.
pub struct FcmDouble {
    url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FcmDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FcmDouble {
    /// Serves on `listener`, accepting requests that carry `Bearer <bearer>`.
    pub fn start_on(listener: tokio::net::TcpListener, bearer: &str) -> anyhow::Result<Self> {
        let shared = Shared {
            bearer: format!("Bearer {bearer}"),
            delivered: Arc::default(),
            throttled_once: Arc::default(),
        };
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/v1/projects/{project}/{action}", post(send))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            url,
            shared,
            server,
        })
    }

    /// On a loopback port of its own.
    pub async fn start(bearer: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        Self::start_on(listener, bearer).expect("the FCM double starts")
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every message FCM would have delivered, in order (the `message`
    /// objects).
    pub fn delivered(&self) -> Vec<Value> {
        self.shared
            .delivered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn fcm_error(status: StatusCode, grpc_status: &str, error_code: &str, message: &str) -> Response {
    let body = json!({"error": {
        "code": status.as_u16(), "message": message, "status": grpc_status,
        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}],
    }});
    (status, Json(body)).into_response()
}

async fn send(
    State(shared): State<Shared>,
    Path((project, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    if action != "messages:send" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == shared.bearer);
    if !authorised {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "THIRD_PARTY_AUTH_ERROR",
            "bad credentials",
        );
    }
    let message = body.0["message"].clone();
    let token = message["token"].as_str().unwrap_or_default().to_owned();
    if token.starts_with("unregistered") {
        return fcm_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "UNREGISTERED",
            "Requested entity was not found.",
        );
    }
    if token.starts_with("invalid") {
        return fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        );
    }
    if token.starts_with("throttled")
        && shared
            .throttled_once
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone())
    {
        let mut response = fcm_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "QUOTA_EXCEEDED",
            "Sending rate exceeded",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, "1".parse().expect("a header value"));
        return response;
    }
    tracing::info!(project, token, message = %message, "FCM double: would deliver");
    shared
        .delivered
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(message);
    let id = format!("projects/{project}/messages/{}", uuid::Uuid::new_v4());
    Json(json!({"name": id})).into_response()
}
