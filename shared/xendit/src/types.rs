//! The invoice as Xendit's API shapes it, in whole rupiah.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What to bill: one invoice for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInvoice {
    /// Our id for what is paid (the order id); Xendit echoes it in callbacks.
    pub external_id: String,
    pub amount_idr: i64,
    /// Shown to the payer on Xendit's hosted page.
    pub description: String,
    /// How long the invoice can be paid; Xendit expires it after that.
    pub invoice_duration_seconds: i64,
    pub success_redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
}

/// An invoice as Xendit reports it. Serialises to Xendit's field names
/// (`amount`, not `amount_idr`), which the double answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub external_id: String,
    pub status: InvoiceStatus,
    #[serde(rename = "amount", with = "whole_rupiah")]
    pub amount_idr: i64,
    pub currency: String,
    /// Xendit's hosted payment page; the app opens it.
    pub invoice_url: String,
    pub expiry_date: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
}

/// Xendit's invoice states. `SETTLED` is a paid invoice whose money has
/// reached the merchant's balance; for an order it means paid too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceStatus {
    Pending,
    Paid,
    Settled,
    Expired,
}

impl InvoiceStatus {
    /// Whether the money arrived (`PAID` or `SETTLED`).
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::Settled)
    }

    /// Xendit's spelling, e.g. `PAID`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Paid => "PAID",
            Self::Settled => "SETTLED",
            Self::Expired => "EXPIRED",
        }
    }
}

/// Xendit documents `amount` as a JSON number that may carry decimals; an
/// IDR amount is whole rupiah, so `50000` and `50000.0` are read and a
/// fraction is refused rather than rounded.
pub(crate) mod whole_rupiah {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(amount: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(*amount)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        if let Some(whole) = number.as_i64() {
            return Ok(whole);
        }
        // 2^53: beyond it an f64 no longer holds every whole number.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        match number.as_f64() {
            #[allow(clippy::cast_possible_truncation)]
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Ok(f as i64),
            _ => Err(D::Error::custom(format!(
                "amount {number} is not a whole rupiah amount"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invoice_json(amount: serde_json::Value) -> serde_json::Value {
        json!({
            "id": "579c8d61f23fa4ca35e52da4", "external_id": "order-1", "status": "PENDING",
            "amount": amount, "currency": "IDR",
            "invoice_url": "https://checkout.xendit.co/web/579c8d61f23fa4ca35e52da4",
            "expiry_date": "2026-11-27T08:00:00.000Z", "user_id": "5781d19b2e2385880609791c",
            "merchant_name": "Halo Bestie", "available_banks": []
        })
    }

    #[test]
    fn an_invoice_reads_whole_rupiah_written_with_or_without_decimals() {
        for amount in [json!(50000), json!(50000.0)] {
            let invoice: Invoice = serde_json::from_value(invoice_json(amount)).unwrap();
            assert_eq!(invoice.amount_idr, 50_000);
            assert_eq!(invoice.status, InvoiceStatus::Pending);
            assert_eq!(invoice.paid_at, None);
        }
    }

    #[test]
    fn an_invoice_with_a_fractional_amount_is_refused_rather_than_rounded() {
        let err = serde_json::from_value::<Invoice>(invoice_json(json!(4550.5))).unwrap_err();
        assert!(
            err.to_string().contains("not a whole rupiah amount"),
            "{err}"
        );
    }

    #[test]
    fn statuses_use_xendits_spelling() {
        for status in [
            InvoiceStatus::Pending,
            InvoiceStatus::Paid,
            InvoiceStatus::Settled,
            InvoiceStatus::Expired,
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                json!(status.as_str())
            );
        }
        assert!(InvoiceStatus::Settled.is_paid() && !InvoiceStatus::Expired.is_paid());
    }
}
