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
    let packages: std::collections::BTreeSet<String> = descriptors
        .file
        .iter()
        .filter_map(|file| file.package.clone())
        .filter(|package| package.starts_with("dti."))
        .collect();
    tonic_prost_build::configure()
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .include_file(INCLUDE_FILE)
        .compile_fds(descriptors.clone())?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors.encode_to_vec())?
        .build(&[".dti"])?;
    for package in packages {
        append_serde(&out_dir, &package)?;
    }
    Ok(())
}

/// Makes a package's generated module include its serde implementations.
fn append_serde(out_dir: &Path, package: &str) -> Result<(), Box<dyn Error>> {
    use std::io::Write;
    let serde_file = format!("{package}.serde.rs");
    let line = format!("include!(concat!(env!(\"OUT_DIR\"), \"/{serde_file}\"));\n");
    let module = out_dir.join(format!("{package}.rs"));
    let text = std::fs::read_to_string(&module)?;
    if !text.contains(&serde_file) {
        std::fs::OpenOptions::new()
            .append(true)
            .open(&module)?
            .write_all(line.as_bytes())?;
    }
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
