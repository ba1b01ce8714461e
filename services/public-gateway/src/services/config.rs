//! The apps' config: pricing tiers, support handles and the values the
//! apps must honour, served from the core's cache.

use halo_proto::ApiError;
use halo_proto::v1::{self, config_service_client::ConfigServiceClient};
use halo_web::CoreChannel;

/// The JSON document and its version (the ETag).
pub async fn public_config(core: &CoreChannel) -> Result<v1::PublicConfig, ApiError> {
    Ok(ConfigServiceClient::new(core.clone())
        .get_public_config(v1::GetPublicConfigRequest {})
        .await?
        .into_inner())
}
