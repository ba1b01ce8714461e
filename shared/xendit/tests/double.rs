//! The double's callbacks and hosted page over real HTTP: what a webhook
//! receiver gets when an invoice is paid or expires, and what a person
//! clicking through the hosted page sees.

mod common;

use std::time::Duration;

use common::{CALLBACK_TOKEN, Receiver, SECRET_KEY, client, double, invoice};
use halo_xendit::double::{Delivery, DoubleError, XenditDouble};
use halo_xendit::{
    Invoice, InvoiceCallback, InvoiceStatus, PaymentProvider, callback_token_matches,
};
use secrecy::SecretString;

const TIMEOUT: Duration = Duration::from_secs(5);

/// A double whose callbacks go to a fresh receiver, and one PENDING invoice.
async fn wired(external_id: &str) -> (Receiver, XenditDouble, Invoice) {
    let receiver = Receiver::start().await;
    let double = double(Some(receiver.url.clone())).await;
    let invoice = invoice(&double, external_id).await;
    (receiver, double, invoice)
}

#[tokio::test]
async fn paying_sends_the_paid_callback_with_the_token_to_the_receiver() {
    let (receiver, double, invoice) = wired("order-10").await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);

    let delivery = double.pay(&invoice.id).await.unwrap();

    assert_eq!(delivery, Delivery::Answered(200));
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let expected = SecretString::from(CALLBACK_TOKEN);
    assert!(callback_token_matches(
        &expected,
        received[0].token.as_deref()
    ));
    let callback: InvoiceCallback = serde_json::from_value(received[0].body.clone()).unwrap();
    assert_eq!(callback.id, invoice.id);
    assert_eq!(callback.external_id, "order-10");
    assert_eq!(callback.status, InvoiceStatus::Paid);
    assert_eq!(
        (callback.amount_idr, callback.currency.as_str()),
        (75_000, "IDR")
    );
    assert!(callback.payment_method.is_some());
    let now_paid = client.get_invoice(&invoice.id).await.unwrap();
    assert_eq!(now_paid.status, InvoiceStatus::Paid);
    assert_eq!(now_paid.paid_at, callback.paid_at);
    assert!(now_paid.paid_at.is_some());
}

#[tokio::test]
async fn expiring_sends_the_expired_callback_and_the_invoice_can_no_longer_be_paid() {
    let (receiver, double, invoice) = wired("order-11").await;

    assert_eq!(
        double.expire(&invoice.id).await.unwrap(),
        Delivery::Answered(200)
    );

    let callback: InvoiceCallback =
        serde_json::from_value(receiver.received()[0].body.clone()).unwrap();
    assert_eq!(callback.status, InvoiceStatus::Expired);
    assert_eq!(callback.paid_at, None);
    assert_eq!(
        double.pay(&invoice.id).await.unwrap_err(),
        DoubleError::NotPending {
            id: invoice.id.clone(),
            status: InvoiceStatus::Expired
        }
    );
    assert_eq!(
        receiver.received().len(),
        1,
        "a refused payment sends nothing"
    );
}

#[tokio::test]
async fn with_callbacks_lost_a_payment_sends_nothing_and_only_get_shows_it() {
    let (receiver, double, invoice) = wired("order-12").await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);
    double.set_callbacks_lost(true);

    assert_eq!(double.pay(&invoice.id).await.unwrap(), Delivery::NotSent);

    assert!(receiver.received().is_empty());
    let found = client.get_invoice(&invoice.id).await.unwrap();
    assert_eq!(found.status, InvoiceStatus::Paid);
}

#[tokio::test]
async fn a_receiver_refusing_the_callback_is_reported_with_its_status() {
    let receiver = Receiver::start().await;
    receiver.answer_with(401);
    let double = double(Some(receiver.url.clone())).await;
    let invoice = invoice(&double, "order-13").await;

    assert_eq!(
        double.pay(&invoice.id).await.unwrap(),
        Delivery::Answered(401)
    );
}

#[tokio::test]
async fn an_unreachable_receiver_is_reported_and_the_payment_still_stands() {
    let nobody = format!("http://127.0.0.1:{}/webhook", halo_testkit::free_port());
    let double = double(Some(nobody)).await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);
    let invoice = invoice(&double, "order-14").await;

    let delivery = double.pay(&invoice.id).await.unwrap();

    assert!(matches!(delivery, Delivery::Unreachable(_)), "{delivery:?}");
    let found = client.get_invoice(&invoice.id).await.unwrap();
    assert_eq!(found.status, InvoiceStatus::Paid);
}

#[tokio::test]
async fn a_resent_callback_repeats_the_event_without_changing_the_invoice() {
    let (receiver, double, invoice) = wired("order-15").await;
    let client = client(double.url(), SECRET_KEY, TIMEOUT);
    double.pay(&invoice.id).await.unwrap();

    double
        .send_callback(&invoice.id, InvoiceStatus::Paid)
        .await
        .unwrap();
    double
        .send_callback(&invoice.id, InvoiceStatus::Expired)
        .await
        .unwrap();

    let bodies: Vec<_> = receiver.received().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0], bodies[1], "a duplicate is the same event");
    assert_eq!(
        bodies[0],
        double
            .callback_body(&invoice.id, InvoiceStatus::Paid)
            .unwrap(),
        "a test can post the very body the double sends"
    );
    assert_eq!(bodies[2]["status"], "EXPIRED");
    let found = client.get_invoice(&invoice.id).await.unwrap();
    assert_eq!(found.status, InvoiceStatus::Paid);
}

#[tokio::test]
async fn the_hosted_page_shows_the_invoice_and_its_pay_button_sends_the_real_callback() {
    let (receiver, _double, invoice) = wired("order-16").await;
    let browser = reqwest::Client::new();

    let page = browser.get(&invoice.invoice_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for shown in [
        "Rp 75.000",
        "Halo Bestie: 30 menit curhat",
        "PENDING",
        ">Pay<",
        ">Expire<",
    ] {
        assert!(page.contains(shown), "the page lacks {shown:?}");
    }

    // The form posts, then the browser follows the redirect back to the page.
    let after = browser
        .post(format!("{}/pay", invoice.invoice_url))
        .send()
        .await
        .unwrap();
    assert_eq!(after.url().as_str(), invoice.invoice_url);
    let after = after.text().await.unwrap();
    assert!(
        after.contains("PAID") && !after.contains(">Pay<"),
        "{after}"
    );
    assert!(after.contains("the receiver answered 200"), "{after}");
    assert!(after.contains("halobestie://payments/success"), "{after}");
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body["status"], "PAID");
    assert_eq!(received[0].token.as_deref(), Some(CALLBACK_TOKEN));
}

#[tokio::test]
async fn the_hosted_page_of_an_unknown_invoice_is_not_found() {
    let double = double(None).await;

    let page = reqwest::get(format!("{}/web/nope", double.url()))
        .await
        .unwrap();

    assert_eq!(page.status(), 404);
}

#[tokio::test]
async fn the_api_refuses_a_missing_key_and_a_body_that_is_not_json_as_xendit_does() {
    let double = double(None).await;
    let url = format!("{}/v2/invoices", double.url());
    let http = reqwest::Client::new();

    let anonymous = http.post(&url).body("{}").send().await.unwrap();
    let garbage = http
        .post(&url)
        .basic_auth(SECRET_KEY, Some(""))
        .body("amount=50000")
        .send()
        .await
        .unwrap();

    assert_eq!(anonymous.status(), 401);
    assert_eq!(garbage.status(), 400);
    let body: serde_json::Value = garbage.json().await.unwrap();
    assert_eq!(body["error_code"], "API_VALIDATION_ERROR");
    assert_eq!(
        double.create_requests(),
        vec![serde_json::json!("amount=50000")]
    );
    assert!(double.invoices().is_empty());
}
