//! Realtime (issue 11): the socket, its frames, and the fan-out of frames
//! between gateway instances.

pub mod frames;
pub mod hub;
pub mod socket;

pub use hub::Hub;
