//! The socket frames' JSON Schemas the apps are built from are checked in
//! beside the code; this keeps the file equal to what the Rust types say.
//! `UPDATE_SCHEMAS=1 cargo test -p public-gateway --test frames_schema`
//! rewrites it after a change to the frames.

use std::path::Path;

#[test]
fn the_checked_in_frame_schemas_match_the_frame_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("socket-frames.schema.json");
    let generated =
        serde_json::to_string_pretty(&public_gateway::realtime::frames::schema_document()).unwrap()
            + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is out of date: run UPDATE_SCHEMAS=1 cargo test -p public-gateway --test frames_schema",
        path.display()
    );
    let document: serde_json::Value = serde_json::from_str(&checked_in).unwrap();
    let schemas = &document["components"]["schemas"];
    for frame in ["ClientFrame", "ServerFrame", "Message", "ErrorCode", "Role"] {
        assert!(schemas[frame].is_object(), "{frame} is described");
    }
    let server = schemas["ServerFrame"].to_string();
    for kind in ["ack", "message", "typing", "read", "error"] {
        assert!(
            server.contains(&format!("\"{kind}\"")),
            "the server's {kind} frame is described"
        );
    }
}
