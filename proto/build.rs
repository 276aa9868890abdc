//! Compiles every `.proto` file under `proto/` with protox (pure Rust, no system `protoc`),
//! generates prost messages and tonic clients/servers into `OUT_DIR`, and writes the encoded
//! `FileDescriptorSet` there for gRPC reflection.

use std::error::Error;
use std::path::{Path, PathBuf};

use prost::Message;

/// Directory holding the `.proto` tree; also the import root.
const PROTO_ROOT: &str = "proto";

/// Name of the encoded descriptor set written to `OUT_DIR`.
const DESCRIPTOR_FILE: &str = "dti_descriptor.bin";

/// Name of the generated file that declares the module tree of every package.
const INCLUDE_FILE: &str = "dti_packages.rs";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let files = proto_files(Path::new(PROTO_ROOT))?;
    let descriptors = protox::Compiler::new([PROTO_ROOT])?
        .include_imports(true)
        .include_source_info(true)
        .open_files(&files)?
        .file_descriptor_set();
    std::fs::write(out_dir.join(DESCRIPTOR_FILE), descriptors.encode_to_vec())?;
    tonic_prost_build::configure()
        .include_file(INCLUDE_FILE)
        .compile_fds(descriptors)?;
    Ok(())
}

/// Every `.proto` file under `dir`, relative to the import root, in a stable order.
fn proto_files(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(proto_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path.strip_prefix(PROTO_ROOT)?.to_path_buf());
        }
    }
    found.sort();
    Ok(found)
}
