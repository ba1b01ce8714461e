//! Access tokens: the claims, HS256 signing and verification, and the axum
//! [`Auth`] extractor. Verification is local (no RPC, no DB), the seed's rule.
//! Also [`Phone`], the one E.164 normalisation every sign-in and operator
//! form uses.

mod extract;
mod phone;
mod token;

pub use extract::{Auth, missing_token, require_user_type};
pub use phone::Phone;
pub use token::{AccessTokens, Claims, TokenError, UserType};
