//! The shared golden cases (`tests/golden/<case>/`), scored from Rust: every score must match
//! `expected.json` bit for bit, and every row status exactly. The Python, R and Java suites read
//! the same files (format: `tests/golden/README.md`).

use crate::common::golden_io;

use std::path::{Path, PathBuf};

use kiln::{Artifact, ScoreOptions, Scorer};
use serde_json::Value;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/golden exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn check_case(dir: &Path, n_threads: usize, split: Option<usize>) {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let expected = golden_io::read_json(&dir.join("expected.json"));
    assert_eq!(expected["format"], golden_io::GOLDEN_FORMAT, "{name}: expected.json format");
    let fingerprint = expected["fingerprint"].as_str().expect("expected.json names the fingerprint");
    // Loading with the pin proves model.kiln is the artifact the expectations were made from.
    let scorer = Scorer::load(dir.join("model.kiln"), Some(fingerprint)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let input = golden_io::input_from_json(&golden_io::read_json(&dir.join("input.json"))).unwrap_or_else(|e| panic!("{name}: {e}"));
    let batch = golden_io::batch_of(&input);
    let n = batch.num_rows();
    assert_eq!(expected["n_rows"].as_u64(), Some(n as u64), "{name}: n_rows");

    let opts = ScoreOptions { n_threads };
    // Optionally score as two separate batches, as a streaming host would.
    let (values, status) = match split {
        None => {
            let s = scorer.score(&batch, &opts).unwrap();
            (s.values.clone(), s.status.clone())
        }
        Some(at) => {
            let k = scorer.n_outputs();
            let mut values = vec![0.0; n * k];
            let mut status = vec![0; n];
            for (start, len) in [(0, at), (at, n - at)] {
                let part = batch.slice(start, len);
                let s = scorer.score(&part, &opts).unwrap();
                for j in 0..k {
                    values[j * n + start..j * n + start + len].copy_from_slice(s.output(j));
                }
                status[start..start + len].copy_from_slice(&s.status);
            }
            (values, status)
        }
    };

    let want_status: Vec<i32> = expected["status"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect();
    assert_eq!(status, want_status, "{name}: row statuses");
    let outputs = expected["outputs"].as_array().unwrap();
    assert_eq!(scorer.output_names(), outputs.iter().map(|o| o["name"].as_str().unwrap()).collect::<Vec<_>>(), "{name}: output names");
    for (j, out) in outputs.iter().enumerate() {
        let (bits, decimals) = (out["bits"].as_array().unwrap(), out["values"].as_array().unwrap());
        for i in 0..n {
            let got = values[j * n + i];
            match (&bits[i], &decimals[i]) {
                (Value::String(b), Value::String(d)) => {
                    let want = u64::from_str_radix(b, 16).unwrap();
                    assert_eq!(
                        got.to_bits(),
                        want,
                        "{name}: output '{}' row {i}: got {got:e} ({:016x}), expected {d} ({b})",
                        out["name"],
                        got.to_bits()
                    );
                    // The decimal form must name the same double (hosts without bit access use it).
                    assert_eq!(d.parse::<f64>().unwrap().to_bits(), want, "{name}: decimal and bits disagree at row {i}");
                }
                (Value::Null, Value::Null) => {
                    assert!(got.is_nan(), "{name}: output '{}' row {i} is flagged and must be NaN, got {got}", out["name"]);
                    assert_ne!(status[i], 0, "{name}: row {i} has no score but status ok");
                }
                other => panic!("{name}: malformed expectation at row {i}: {other:?}"),
            }
        }
    }
}

#[test]
fn there_are_golden_cases() {
    let names: Vec<String> = cases().iter().map(|p| p.file_name().unwrap().to_string_lossy().to_string()).collect();
    assert!(names.len() >= 4, "expected at least 4 golden cases, found {names:?}");
    for d in cases() {
        for f in ["model.kiln", "input.json", "expected.json"] {
            assert!(d.join(f).is_file(), "{} lacks {f}", d.display());
        }
    }
}

#[test]
fn golden_cases_score_bit_identically() {
    for dir in cases() {
        check_case(&dir, 1, None);
    }
}

#[test]
fn golden_cases_score_bit_identically_split_and_threaded() {
    for dir in cases() {
        check_case(&dir, 4, Some(3));
    }
}

#[test]
fn golden_fingerprints_match_their_content() {
    for dir in cases() {
        let bytes = std::fs::read(dir.join("model.kiln")).unwrap();
        let a = Artifact::from_bytes(&bytes, None).unwrap();
        let expected = golden_io::read_json(&dir.join("expected.json"));
        assert_eq!(a.fingerprint, expected["fingerprint"].as_str().unwrap(), "{}", dir.display());
        // Saving again reproduces the file byte for byte: the generator's output is canonical.
        assert_eq!(a.to_bytes().unwrap(), bytes, "{}: re-encoding changed the file", dir.display());
    }
}
