//! Mitras as customers see them (issue 10): public profiles, presence
//! (what the mitra said, kept alive by heartbeats) and availability, the
//! one rule matching and ordering use. Sole writer of `mitra_profiles` and
//! `mitra_presence`.

mod capacity;
mod listing;
mod presence;
mod ratings;
mod roster;

pub use capacity::{lock_if_available, try_lock_if_available};
pub use listing::{Availability, Cursor, MitraCard, Page, Rating, get, list};
pub use presence::{Heartbeats, Presence, PresenceStatus, go_offline, set_presence};
pub use ratings::record_rating;
pub use roster::{
    MitraRecord, ProfileChange, RosterFilter, escape_like, mitra_record, roster, save_profile,
};
