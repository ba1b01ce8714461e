// `sqlx::migrate!` embeds ../../migrations at compile time, but cargo only
// rebuilds a crate when its own sources change: without this, a migration
// added later would silently be left out of an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
