//! Xendit invoices, the one payment provider: the [`PaymentProvider`] trait the
//! orders code holds as `Arc<dyn PaymentProvider>`, the real [`XenditClient`],
//! the invoice callback Xendit POSTs with its token check, and [`double`], a
//! local HTTP server speaking the same subset for tests and the local stack.

mod callback;
mod client;
pub mod double;
mod types;

pub use callback::{InvoiceCallback, callback_token_matches};
pub use client::{DEFAULT_API_BASE_URL, PaymentProvider, XenditClient, XenditConfig, XenditError};
pub use types::{CreateInvoice, Invoice, InvoiceStatus};
