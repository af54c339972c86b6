//! The committed `include/kiln.h` is exactly what cbindgen generates from `src/ffi` (build.rs
//! regenerates it into OUT_DIR on every build), and the versions it states agree with
//! Cargo.toml and with the library at run time.

use std::ffi::CStr;

use kiln::ffi::{kiln_abi_version, kiln_version};
use kiln::{KilnStatus, RowStatus};

/// The header build.rs just generated with cbindgen.
const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/kiln.h"));

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include/kiln.h")
}

fn committed() -> String {
    std::fs::read_to_string(committed_path()).unwrap_or_default()
}

#[test]
fn committed_header_is_current() {
    if std::env::var_os("KILN_BLESS_HEADER").is_some() {
        std::fs::write(committed_path(), GENERATED).expect("write include/kiln.h");
    }
    let committed = committed();
    if committed != GENERATED {
        let first = committed.lines().zip(GENERATED.lines()).position(|(a, b)| a != b).unwrap_or(committed.lines().count().min(GENERATED.lines().count()));
        panic!(
            "include/kiln.h is out of date with src/ffi (first difference at line {}); run `scripts/gen-header.sh` to regenerate it and commit the result",
            first + 1
        );
    }
}

fn define(name: &str) -> Option<String> {
    let prefix = format!("#define {name} ");
    GENERATED.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_string())
}

#[test]
fn header_cargo_and_runtime_versions_agree() {
    // SAFETY: kiln_version returns a static NUL-terminated string.
    let runtime = unsafe { CStr::from_ptr(kiln_version()) }.to_str().unwrap().to_string();
    let header = define("KILN_VERSION").expect("the header defines KILN_VERSION");
    assert_eq!(header, format!("\"{}\"", env!("CARGO_PKG_VERSION")), "header vs Cargo.toml");
    assert_eq!(runtime, env!("CARGO_PKG_VERSION"), "kiln_version() vs Cargo.toml");
    assert_eq!(define("KILN_VERSION_MAJOR").unwrap(), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(define("KILN_VERSION_MINOR").unwrap(), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(define("KILN_VERSION_PATCH").unwrap(), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(define("KILN_ABI_VERSION").unwrap(), kiln_abi_version().to_string());
}

/// `PREFIX_NAME = n` in the header.
fn enum_value(constant: &str) -> Option<i32> {
    GENERATED.lines().find_map(|l| {
        let (name, value) = l.trim().trim_end_matches(',').split_once(" = ")?;
        (name == constant).then(|| value.parse().ok()).flatten()
    })
}

#[test]
fn header_status_numbers_are_the_rust_numbers() {
    for s in KilnStatus::ALL {
        let c = format!("KILN_STATUS_{}", s.name().to_uppercase());
        assert_eq!(enum_value(&c), Some(s as i32), "{c}");
    }
    for s in RowStatus::ALL {
        let c = format!("KILN_ROW_STATUS_{}", s.name().to_uppercase());
        assert_eq!(enum_value(&c), Some(s as i32), "{c}");
    }
    for t in kiln::batch::raw::PhysicalType::ALL {
        let c = format!("KILN_PHYSICAL_TYPE_{}", t.name().to_uppercase());
        assert_eq!(enum_value(&c), Some(t as i32), "{c}");
    }
    assert_eq!(enum_value("KILN_COLUMN_TYPE_CATEGORICAL"), Some(6));
    for guard in ["#ifndef ARROW_C_DATA_INTERFACE", "#ifndef ARROW_C_STREAM_INTERFACE", "#ifndef KILN_H"] {
        assert!(GENERATED.contains(guard), "{guard}");
    }
}
