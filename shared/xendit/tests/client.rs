//! The Xendit client against the double over real HTTP: what the orders code
//! gets back from each kind of provider behaviour.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{SECRET_KEY, client, double, order};
use halo_xendit::double::FailureMode;
use halo_xendit::{InvoiceStatus, PaymentProvider, XenditClient, XenditConfig, XenditError};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(5);

fn assert_unavailable(result: Result<halo_xendit::Invoice, XenditError>, because: &str) {
    match result {
        Err(XenditError::Unavailable { reason }) => {
            assert!(
                reason.contains(because),
                "reason {reason:?} lacks {because:?}"
            );
        }
        other => panic!("expected Unavailable ({because}), got {other:?}"),
    }
}

fn assert_rejected(err: &XenditError, status: u16, code: &str) {
    assert!(
        matches!(err, XenditError::Rejected { status: s, error_code, .. } if *s == status && error_code == code),
        "expected Rejected {status} {code}, got {err:?}"
    );
}

#[tokio::test]
async fn a_created_invoice_is_pending_on_a_hosted_page_and_get_reports_the_same() {
    let double = double(None).await;
    let provider: Arc<dyn PaymentProvider> = Arc::new(client(double.url(), SECRET_KEY, TIMEOUT));

    let created = provider.create_invoice(&order("order-1")).await.unwrap();

    assert_eq!(created.external_id, "order-1");
    assert_eq!(created.status, InvoiceStatus::Pending);
    assert_eq!(
        (created.amount_idr, created.currency.as_str()),
        (75_000, "IDR")
    );
    assert_eq!(
        created.invoice_url,
        format!("{}/web/{}", double.url(), created.id)
    );
    let left = (created.expiry_date - Utc::now()).num_seconds();
    assert!((890..=900).contains(&left), "expires in {left} s, not 900");
    assert_eq!(created.paid_at, None);
    assert_eq!(provider.get_invoice(&created.id).await.unwrap(), created);
    let sent = &double.create_requests()[0];
    assert_eq!(
        *sent,
        json!({
            "external_id": "order-1", "amount": 75000, "currency": "IDR",
            "description": "Halo Bestie: 30 menit curhat", "invoice_duration": 900,
            "success_redirect_url": "halobestie://payments/success",
            "failure_redirect_url": "halobestie://payments/failure"
        })
    );
}

#[tokio::test]
async fn a_wrong_secret_key_is_rejected_with_401_and_creates_nothing() {
    let double = double(None).await;
    let client = client(double.url(), "xnd_not_the_key", TIMEOUT);

    let err = client.create_invoice(&order("order-2")).await.unwrap_err();

    assert_eq!(
        err,
        XenditError::Rejected {
            status: 401,
            error_code: "INVALID_API_KEY".into(),
            message: "API key is not authorized for this API service".into(),
        }
    );
    assert!(double.invoices().is_empty());
}

#[tokio::test]
async fn an_unknown_invoice_is_rejected_with_404() {
    let double = double(None).await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);

    let err = client.get_invoice("no-such-invoice").await.unwrap_err();

    assert_rejected(&err, 404, "INVOICE_NOT_FOUND_ERROR");
}

#[tokio::test]
async fn an_invoice_for_nothing_is_rejected_as_a_validation_error() {
    let double = double(None).await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);
    let free = halo_xendit::CreateInvoice {
        amount_idr: 0,
        ..order("order-3")
    };

    let err = client.create_invoice(&free).await.unwrap_err();

    assert_rejected(&err, 400, "API_VALIDATION_ERROR");
    assert!(double.invoices().is_empty());
}

#[tokio::test]
async fn a_provider_answering_errors_is_rejected_with_its_error_code() {
    let double = double(None).await;
    double.set_failure_mode(FailureMode::Error);
    let client = client(double.url(), SECRET_KEY, TIMEOUT);

    let err = client.create_invoice(&order("order-4")).await.unwrap_err();

    assert_rejected(&err, 400, "API_VALIDATION_ERROR");
    assert!(double.invoices().is_empty());
}

#[tokio::test]
async fn a_provider_that_is_down_is_unavailable_and_works_again_once_back() {
    let double = double(None).await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);
    double.set_failure_mode(FailureMode::Down);

    assert_unavailable(client.create_invoice(&order("order-5")).await, "503");
    assert!(double.invoices().is_empty());

    double.set_failure_mode(FailureMode::None);
    let invoice = client.create_invoice(&order("order-5")).await.unwrap();
    assert_eq!(double.invoices(), vec![invoice]);
}

#[tokio::test]
async fn a_provider_slower_than_the_timeout_is_unavailable_when_the_timeout_runs_out() {
    let double = double(None).await;
    double.set_failure_mode(FailureMode::Slow(Duration::from_secs(3)));
    let client = client(double.url(), SECRET_KEY, Duration::from_millis(300));

    let started = Instant::now();
    let result = client.create_invoice(&order("order-6")).await;

    assert_unavailable(result, "timed out");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited {:?}",
        started.elapsed()
    );
    // Xendit did the work; only its answer was late.
    assert_eq!(double.invoices().len(), 1);
}

#[tokio::test]
async fn a_provider_that_refuses_connections_is_unavailable() {
    let closed = halo_testkit::free_port();
    let client = client(&format!("http://127.0.0.1:{closed}"), SECRET_KEY, TIMEOUT);

    assert_unavailable(client.get_invoice("inv-1").await, "cannot connect");
}

#[tokio::test]
async fn a_base_url_that_is_not_http_stops_start_up_naming_the_variable() {
    let err = XenditClient::new(XenditConfig {
        api_base_url: "api.xendit.co".into(),
        secret_key: SECRET_KEY.to_owned().into(),
        timeout: TIMEOUT,
    })
    .unwrap_err();

    assert!(err.to_string().contains("XENDIT_API_BASE_URL"), "{err}");
}

#[tokio::test]
async fn the_secret_key_never_shows_in_the_clients_debug_output() {
    let client = client("http://127.0.0.1:1", SECRET_KEY, TIMEOUT);

    assert!(!format!("{client:?}").contains(SECRET_KEY));
}
