//! Generates the C header (include/kiln.h's source of truth) into OUT_DIR with cbindgen.
//! tests/integration/header.rs compares it with the committed include/kiln.h; scripts/gen-header.sh
//! copies it there.

use std::path::PathBuf;

fn main() {
    for path in ["src", "cbindgen.toml", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is readable and valid");
    // The version macros come from Cargo.toml here, never by hand, so they cannot drift.
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let part = |name: &str| std::env::var(name).expect("cargo sets the version parts");
    let macros = format!(
        "\n/* Library version (Cargo.toml); kiln_version() returns the same string at run time. */\n\
         #define KILN_VERSION \"{version}\"\n#define KILN_VERSION_MAJOR {}\n#define KILN_VERSION_MINOR {}\n#define KILN_VERSION_PATCH {}\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    );
    config.after_includes = Some(format!("{macros}{}", config.after_includes.unwrap_or_default()));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        // Only the ABI's own files: the rest of the crate's public constants are not ABI.
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .with_src(crate_dir.join("src/error.rs"))
        .with_src(crate_dir.join("src/verify/mod.rs"))
        .with_src(crate_dir.join("src/batch/raw.rs"))
        .generate()
        .expect("cbindgen generates the kiln header from src/ffi");
    bindings.write_to_file(out_dir.join("kiln.h"));
}
