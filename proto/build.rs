//! Compiles the core's .proto files with protox (pure Rust), so a clean machine
//! needs no system `protoc`. Also writes the encoded descriptor set that the
//! core's gRPC reflection service serves.

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/halo/core/v1/auth.proto",
        "proto/halo/core/v1/config.proto",
    ];
    let descriptors = protox::compile(protos, ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("halo_core_v1_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    // compile_fds does not emit rerun-if-changed on its own.
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
