//! The double's hosted invoice page (`invoice_url`): what a payer sees on
//! Xendit's checkout, reduced to the amount, the status and two buttons
//! that pay or expire the invoice and send the real callback, so the whole
//! order flow can be clicked through in a browser on a laptop.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::{Delivery, DoubleError, Stored, XenditDouble, find, find_mut};
use crate::types::InvoiceStatus;

pub(super) fn routes() -> Router<XenditDouble> {
    Router::new()
        .route("/web/{id}", get(show))
        .route("/web/{id}/pay", post(pay))
        .route("/web/{id}/expire", post(expire))
}

async fn show(State(double): State<XenditDouble>, Path(id): Path<String>) -> Response {
    match find(&double.state(), &id) {
        Ok(stored) => Html(render(stored)).into_response(),
        Err(_) => not_found(),
    }
}

async fn pay(State(double): State<XenditDouble>, Path(id): Path<String>) -> Response {
    let outcome = double.pay(&id).await;
    after_click(&double, &id, outcome)
}

async fn expire(State(double): State<XenditDouble>, Path(id): Path<String>) -> Response {
    let outcome = double.expire(&id).await;
    after_click(&double, &id, outcome)
}

/// Notes what happened for the page to show, then goes back to it (a
/// redirect, so reloading the page does not click again).
fn after_click(
    double: &XenditDouble,
    id: &str,
    outcome: Result<Delivery, DoubleError>,
) -> Response {
    let event = match outcome {
        Ok(Delivery::Answered(status)) => format!("Callback sent; the receiver answered {status}."),
        Ok(Delivery::NotSent) => {
            "No callback sent (callbacks are lost or no callback URL is set).".to_owned()
        }
        Ok(Delivery::Unreachable(e)) => format!("The callback could not be delivered: {e}"),
        Err(DoubleError::UnknownInvoice(_)) => return not_found(),
        Err(e @ DoubleError::NotPending { .. }) => format!("Nothing changed: {e}."),
    };
    if let Ok(stored) = find_mut(&mut double.state(), id) {
        stored.last_event = Some(event);
    }
    Redirect::to(&format!("/web/{id}")).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(page(
            "Invoice not found",
            "<p>The Xendit double has no such invoice.</p>",
        )),
    )
        .into_response()
}

fn render(stored: &Stored) -> String {
    let invoice = &stored.invoice;
    let mut body = format!(
        "<h1>{amount}</h1><p>{description}</p><dl><dt>Status</dt><dd id=\"status\">{status}</dd>\
         <dt>Order</dt><dd>{external_id}</dd><dt>Expires</dt><dd>{expiry}</dd></dl>",
        amount = rupiah(invoice.amount_idr),
        description = escape(&stored.description),
        status = invoice.status.as_str(),
        external_id = escape(&invoice.external_id),
        expiry = invoice.expiry_date.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if invoice.status == InvoiceStatus::Pending {
        let id = escape(&invoice.id);
        body.push_str(&format!(
            "<form method=\"post\" action=\"/web/{id}/pay\"><button>Pay</button></form>\
             <form method=\"post\" action=\"/web/{id}/expire\"><button class=\"quiet\">Expire</button></form>"
        ));
    }
    if let Some(event) = &stored.last_event {
        body.push_str(&format!("<p class=\"event\">{}</p>", escape(event)));
    }
    let back = if invoice.status.is_paid() {
        &stored.success_redirect_url
    } else if invoice.status == InvoiceStatus::Expired {
        &stored.failure_redirect_url
    } else {
        &None
    };
    if let Some(url) = back {
        body.push_str(&format!(
            "<p><a href=\"{}\">Back to the app</a></p>",
            escape(url)
        ));
    }
    page(&format!("Invoice {}", escape(&invoice.id)), &body)
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Xendit double</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}\
         .note{{color:#666;font-size:.9rem}}dt{{font-weight:600}}dd{{margin:0 0 .5rem}}\
         button{{font-size:1.1rem;padding:.6rem 1.4rem;margin:.3rem 0;cursor:pointer}}\
         .quiet{{font-size:.9rem}}.event{{background:#f3f3f3;padding:.5rem}}</style></head>\
         <body><p class=\"note\">Xendit double: a local stand-in for Xendit's checkout. No money moves.</p>\
         {body}</body></html>"
    )
}

/// `Rp 1.250.000`, as Indonesians write amounts.
fn rupiah(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("Rp {sign}{grouped}")
}

/// Text from a caller (description, ids) placed into HTML.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_by_thousands_with_dots() {
        assert_eq!(rupiah(50_000), "Rp 50.000");
        assert_eq!(rupiah(1_250_000), "Rp 1.250.000");
        assert_eq!(rupiah(999), "Rp 999");
    }

    #[test]
    fn caller_text_cannot_inject_markup() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
    }
}
