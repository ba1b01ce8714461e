//! Push notifications (issue 11) for a recipient with no live socket,
//! through FCM HTTP v1. Best effort and off the request path: a push never
//! delays an ack or an action. Devices are registered by the apps and
//! pruned when FCM says a token is dead.

mod devices;
pub mod double;
mod fcm;

pub use devices::{Platform, forget_session, register, unregister};
pub use fcm::{ANDROID_CHANNEL_ID, Credentials, FcmConfig, Notification, PushKind, Pusher};
