//! What Xendit POSTs to our webhook on an invoice event, and the check of
//! the `x-callback-token` header it sends with it.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::types::{InvoiceStatus, whole_rupiah};

/// The fields of Xendit's invoice callback the orders code reads; Xendit
/// sends many more (merchant, bank, payer), which are ignored here and kept
/// only in the raw body the caller stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceCallback {
    /// Xendit's invoice id.
    pub id: String,
    /// Ours: the order id the invoice was created with.
    pub external_id: String,
    pub status: InvoiceStatus,
    #[serde(rename = "amount", with = "whole_rupiah")]
    pub amount_idr: i64,
    pub currency: String,
    #[serde(default)]
    pub paid_at: Option<DateTime<Utc>>,
    /// e.g. `BANK_TRANSFER`, `EWALLET`, `QR_CODE`; absent on `EXPIRED`.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// e.g. `BCA`, `OVO`; absent on `EXPIRED`.
    #[serde(default)]
    pub payment_channel: Option<String>,
}

/// Whether `presented` (the `x-callback-token` header) is the configured
/// token, compared in constant time so response timing reveals nothing
/// about the token's content. An empty expected token matches nothing.
pub fn callback_token_matches(expected: &SecretString, presented: Option<&str>) -> bool {
    let expected = expected.expose_secret().as_bytes();
    match presented {
        Some(presented) if !expected.is_empty() => expected.ct_eq(presented.as_bytes()).into(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token() -> SecretString {
        SecretString::from("xnd-callback-token-0123456789")
    }

    #[test]
    fn only_the_exact_callback_token_matches() {
        assert!(callback_token_matches(
            &token(),
            Some("xnd-callback-token-0123456789")
        ));
        for wrong in [
            "xnd-callback-token-012345678",
            "xnd-callback-token-01234567890",
            "XND-CALLBACK-TOKEN-0123456789",
            "",
        ] {
            assert!(
                !callback_token_matches(&token(), Some(wrong)),
                "{wrong:?} matched"
            );
        }
    }

    #[test]
    fn a_missing_callback_token_never_matches() {
        assert!(!callback_token_matches(&token(), None));
    }

    #[test]
    fn an_unset_expected_token_matches_nothing_not_even_an_empty_header() {
        let unset = SecretString::from("");
        assert!(!callback_token_matches(&unset, Some("")));
        assert!(!callback_token_matches(&unset, None));
    }

    #[test]
    fn a_paid_callback_as_xendit_sends_it_is_read_and_its_extra_fields_ignored() {
        let body = json!({
            "id": "62f00ac409accd62c85673c4", "amount": 8500000, "status": "PAID",
            "created": "2022-08-07T18:56:04.761Z", "is_high": false,
            "paid_at": "2022-08-07T18:58:35.534Z", "updated": "2022-08-07T18:58:35.843Z",
            "user_id": "6279ce4495d10c9afc3171b8", "currency": "IDR", "bank_code": "MANDIRI",
            "description": "Chat 30 menit", "external_id": "order-7", "paid_amount": 8500000,
            "merchant_name": "Halo Bestie", "initial_amount": 8500000,
            "payment_method": "BANK_TRANSFER", "payment_channel": "MANDIRI",
            "payment_destination": "8860861087714"
        });
        let callback: InvoiceCallback = serde_json::from_value(body).unwrap();
        assert_eq!(callback.external_id, "order-7");
        assert_eq!(callback.status, InvoiceStatus::Paid);
        assert_eq!(callback.amount_idr, 8_500_000);
        assert_eq!(callback.payment_method.as_deref(), Some("BANK_TRANSFER"));
        assert_eq!(
            callback.paid_at.unwrap().to_rfc3339(),
            "2022-08-07T18:58:35.534+00:00"
        );
    }

    #[test]
    fn an_expired_callback_has_no_payment() {
        let body = json!({
            "id": "inv-1", "external_id": "order-8", "status": "EXPIRED",
            "amount": 50000, "currency": "IDR", "merchant_name": "Halo Bestie"
        });
        let callback: InvoiceCallback = serde_json::from_value(body).unwrap();
        assert_eq!(callback.status, InvoiceStatus::Expired);
        assert_eq!((callback.paid_at, callback.payment_method), (None, None));
    }
}
