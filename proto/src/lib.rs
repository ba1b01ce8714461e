//! The core's gRPC contract (`halo.core.v1`) and [`ApiError`], the one error
//! vocabulary that crosses the gRPC hop and becomes the edges' JSON errors.

mod error;
pub mod text;

pub use error::{ApiError, ErrorKind, FieldError};

/// Generated code for `halo.core.v1`.
pub mod v1 {
    tonic::include_proto!("halo.core.v1");

    /// Encoded descriptors of every service above, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/halo_core_v1_descriptor.bin"));
}

/// The gRPC metadata key carrying the caller's request id into the core.
pub const REQUEST_ID_METADATA: &str = "x-request-id";

/// The metadata key of the service credential (`CORE_SERVICE_SECRET`) every
/// call to the core carries.
pub const SERVICE_CREDENTIAL_METADATA: &str = "x-halo-service-credential";

/// The metadata key of the access token of the user a call is made for.
pub const ON_BEHALF_OF_METADATA: &str = "x-halo-on-behalf-of";
