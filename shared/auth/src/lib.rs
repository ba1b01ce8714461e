//! Access tokens: the claims, HS256 signing and verification, and the axum
//! [`Auth`] extractor. Verification is local (no RPC, no DB), the seed's rule.

mod extract;
mod token;

pub use extract::{Auth, require_user_type};
pub use token::{AccessTokens, Claims, TokenError, UserType};
