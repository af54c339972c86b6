//! Artifact loading: every kind of bad file gives the right status and a message naming the
//! problem; save/load round-trips; the fingerprint covers exactly the content.

use crate::common;

use common::*;
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType};
use kiln::{Artifact, KilnStatus};
use serde_json::{Value, json};

fn tree_content() -> Content {
    content(
        vec![Column::new("x", ColumnType::Float64), Column::new("c", ColumnType::Categorical)],
        vec![Step::Ordinal {
            column: "c".into(),
            categories: vec!["a".into(), "b".into()],
            unknown: UnknownCategory::Ignore,
            unknown_value: None,
            output: Some("c_code".into()),
        }],
        ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: vec!["x".into(), "c_code".into()],
            n_targets: 1,
            base_score: vec![0.5],
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: Precision::Float32,
            accumulate: Precision::Float32,
            transform: OutputTransform::Sigmoid,
            trees: vec![TreeSpec {
                target: 0,
                leaf_width: 1,
                feature: vec![0, -1, 1, -1, -1],
                threshold: vec![0.5, 0.0, 0.0, 0.0, 0.0],
                left: vec![1, -1, 3, -1, -1],
                right: vec![2, -1, 4, -1, -1],
                default_left: vec![true, false, false, false, false],
                missing: vec![],
                category_splits: vec![CategorySplit { node: 2, categories: vec![1], goes: SetGoes::Left }],
                value: vec![0.0, 0.1, 0.0, 0.2, -0.3],
            }],
        }),
    )
}

fn valid_bytes() -> Vec<u8> {
    Artifact::new(tree_content()).unwrap().with_created_at("2025-01-02T03:04:05Z").to_bytes().unwrap()
}

fn doc() -> Value {
    serde_json::from_slice(&valid_bytes()).unwrap()
}

/// Load a modified document. With `drop_fingerprint`, the stored fingerprint is removed so that
/// the content's own validation is what fails (the fingerprint is optional in the envelope).
fn load_doc(d: &Value, drop_fingerprint: bool) -> kiln::Result<Artifact> {
    let mut d = d.clone();
    if drop_fingerprint {
        d.as_object_mut().unwrap().remove("fingerprint");
    }
    Artifact::from_bytes(&serde_json::to_vec(&d).unwrap(), None)
}

#[track_caller]
fn expect_err(r: kiln::Result<Artifact>, status: KilnStatus, words: &[&str]) {
    let e = r.expect_err("loading must fail");
    assert_eq!(e.status(), status, "status of: {e}");
    for w in words {
        assert!(e.message().contains(w), "message {:?} should mention {w:?}", e.message());
    }
}

/// Apply `f` to the first tree of the content, then load without the stored fingerprint.
fn with_tree(f: impl FnOnce(&mut Value)) -> kiln::Result<Artifact> {
    let mut d = doc();
    f(&mut d["content"]["model"]["trees"][0]);
    load_doc(&d, true)
}

#[test]
fn the_valid_artifact_loads_with_and_without_stored_fingerprint() {
    load_doc(&doc(), false).unwrap();
    let a = load_doc(&doc(), true).unwrap();
    assert_eq!(a.fingerprint, Artifact::new(tree_content()).unwrap().fingerprint);
}

#[test]
fn malformed_json() {
    expect_err(Artifact::from_bytes(b"{\"format\": kiln}", None), KilnStatus::MalformedArtifact, &["malformed artifact"]);
    expect_err(Artifact::from_bytes(b"", None), KilnStatus::MalformedArtifact, &["artifact"]);
    expect_err(Artifact::from_bytes(&[0xff, 0xfe, 0x00], None), KilnStatus::MalformedArtifact, &["malformed artifact"]);
}

#[test]
fn truncated_file() {
    let bytes = valid_bytes();
    for cut in [1, bytes.len() / 3, bytes.len() - 1] {
        expect_err(Artifact::from_bytes(&bytes[..cut], None), KilnStatus::MalformedArtifact, &["truncated"]);
    }
}

#[test]
fn truncated_file_on_disk_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.kiln");
    let bytes = valid_bytes();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = Artifact::load(&path, None).unwrap_err();
    assert_eq!(e.status(), KilnStatus::MalformedArtifact);
    assert!(e.message().contains("cut.kiln") && e.message().contains("truncated"), "{e}");
    let e = Artifact::load(dir.path().join("absent.kiln"), None).unwrap_err();
    assert_eq!(e.status(), KilnStatus::Io);
    assert!(e.message().contains("absent.kiln"), "{e}");
}

#[test]
fn wrong_format_tag() {
    let mut d = doc();
    d["format"] = json!("onnx");
    expect_err(load_doc(&d, false), KilnStatus::MalformedArtifact, &["'onnx'", "kiln"]);
}

#[test]
fn newer_versions_are_refused() {
    for (v, words) in [("2.0", ["2.0", "newer"]), ("1.1", ["1.1", "newer"]), ("17.3", ["17.3", "newer"])] {
        let mut d = doc();
        d["format_version"] = json!(v);
        expect_err(load_doc(&d, false), KilnStatus::UnsupportedVersion, &words);
    }
    for v in ["1", "one.zero", "1.0.0", ""] {
        let mut d = doc();
        d["format_version"] = json!(v);
        expect_err(load_doc(&d, false), KilnStatus::MalformedArtifact, &["format_version"]);
    }
    let mut d = doc();
    d["format_version"] = json!("0.9");
    load_doc(&d, false).expect("an older minor/major is read");
}

#[test]
fn tampered_content_fails_the_stored_fingerprint() {
    let mut d = doc();
    d["content"]["model"]["trees"][0]["value"][1] = json!(0.11);
    expect_err(load_doc(&d, false), KilnStatus::FingerprintMismatch, &["stored", "altered"]);
    // Even a change that leaves the model valid and its meaning nearly identical.
    let mut d = doc();
    d["content"]["provenance"]["library"] = json!("someone-else");
    expect_err(load_doc(&d, false), KilnStatus::FingerprintMismatch, &["stored"]);
}

#[test]
fn pinned_fingerprint() {
    let bytes = valid_bytes();
    let fp = Artifact::from_bytes(&bytes, None).unwrap().fingerprint;
    assert!(fp.starts_with("sha256:") && fp.len() == 7 + 64, "{fp}");
    let hex = fp.strip_prefix("sha256:").unwrap();
    Artifact::from_bytes(&bytes, Some(&fp)).expect("pin with prefix");
    Artifact::from_bytes(&bytes, Some(hex)).expect("pin without prefix");
    Artifact::from_bytes(&bytes, Some(&hex.to_ascii_uppercase())).expect("hex case does not matter");
    let other = format!("sha256:{}", "0".repeat(64));
    expect_err(Artifact::from_bytes(&bytes, Some(&other)), KilnStatus::FingerprintMismatch, &["pinned", &other, &fp]);
    expect_err(Artifact::from_bytes(&bytes, Some(&hex[..63])), KilnStatus::FingerprintMismatch, &["pinned"]);
}

#[test]
fn child_index_out_of_range() {
    expect_err(with_tree(|t| t["left"][0] = json!(99)), KilnStatus::InvalidModel, &["tree 0", "node 0", "left child 99"]);
    expect_err(with_tree(|t| t["right"][2] = json!(-3)), KilnStatus::InvalidModel, &["tree 0", "node 2", "right child -3"]);
}

#[test]
fn feature_index_beyond_the_models_features() {
    expect_err(with_tree(|t| t["feature"][2] = json!(2)), KilnStatus::InvalidModel, &["node 2", "feature 2", "2 features"]);
    expect_err(with_tree(|t| t["feature"][1] = json!(-7)), KilnStatus::InvalidModel, &["node 1", "-7"]);
}

#[test]
fn cycle_and_orphan_nodes() {
    // Leaf 1 becomes a split whose left child is the root: a cycle.
    let cycle = with_tree(|t| {
        t["feature"][1] = json!(0);
        t["left"][1] = json!(0);
        t["right"][1] = json!(3);
    });
    expect_err(cycle, KilnStatus::InvalidModel, &["tree 0", "reached twice"]);
    // The root points past node 2: nodes 2, 3 and 4 become unreachable (3 and 4 are then
    // reached only from 2).
    let orphan = with_tree(|t| {
        t["right"][0] = json!(3);
        t["feature"][3] = json!(-1);
    });
    expect_err(orphan, KilnStatus::InvalidModel, &["tree 0", "not reachable"]);
}

#[test]
fn array_length_mismatches() {
    expect_err(with_tree(|t| t["threshold"].as_array_mut().unwrap().push(json!(1.0))), KilnStatus::InvalidModel, &["'threshold'", "6 entries", "5 nodes"]);
    expect_err(with_tree(|t| { t["value"].as_array_mut().unwrap().pop(); }), KilnStatus::InvalidModel, &["'value'", "4 entries"]);
    expect_err(with_tree(|t| { t["default_left"].as_array_mut().unwrap().pop(); }), KilnStatus::InvalidModel, &["'default_left'"]);
    expect_err(with_tree(|t| t["leaf_width"] = json!(2)), KilnStatus::InvalidModel, &["leaf_width 2", "1 targets"]);
}

#[test]
fn outputs_count_mismatch() {
    let mut d = doc();
    d["content"]["outputs"].as_array_mut().unwrap().push(json!({"name": "extra"}));
    expect_err(load_doc(&d, true), KilnStatus::InvalidModel, &["2 outputs", "produces 1"]);
}

#[test]
fn pipeline_step_reading_a_missing_column() {
    let mut d = doc();
    d["content"]["pipeline"][0]["column"] = json!("nope");
    expect_err(load_doc(&d, true), KilnStatus::InvalidModel, &["step 0", "ordinal", "'nope'"]);
}

#[test]
fn model_feature_that_is_categorical() {
    let mut d = doc();
    d["content"]["model"]["features"][1] = json!("c");
    expect_err(load_doc(&d, true), KilnStatus::InvalidModel, &["feature 1", "'c'", "categorical"]);
    let mut d = doc();
    d["content"]["model"]["features"][0] = json!("ghost");
    expect_err(load_doc(&d, true), KilnStatus::InvalidModel, &["'ghost'"]);
}

#[test]
fn unknown_fields_and_kinds_are_malformed() {
    let mut d = doc();
    d["content"]["model"]["trees"][0]["weight"] = json!(1.0);
    expect_err(load_doc(&d, true), KilnStatus::MalformedArtifact, &["weight"]);
    let mut d = doc();
    d["content"]["model"]["kind"] = json!("neural_net");
    expect_err(load_doc(&d, true), KilnStatus::MalformedArtifact, &["neural_net"]);
    let mut d = doc();
    d["content"]["model"]["kind"] = json!(7);
    expect_err(load_doc(&d, true), KilnStatus::MalformedArtifact, &["model kind"]);
    let mut d = doc();
    d["content"]["model"].as_object_mut().unwrap().remove("kind");
    expect_err(load_doc(&d, true), KilnStatus::MalformedArtifact, &["kind"]);
    let mut d = doc();
    d["content"]["pipeline"][0]["step"] = json!("pca");
    expect_err(load_doc(&d, true), KilnStatus::MalformedArtifact, &["pca"]);
}

#[test]
fn save_then_load_round_trips() {
    let a = Artifact::new(tree_content()).unwrap().with_created_at("2025-01-02T03:04:05Z");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.kiln");
    a.save(&path).unwrap();
    let b = Artifact::load(&path, Some(&a.fingerprint)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(b.created_at.as_deref(), Some("2025-01-02T03:04:05Z"));
    assert_eq!(b.to_bytes().unwrap(), std::fs::read(&path).unwrap());
}

#[test]
fn fingerprint_ignores_created_at() {
    let a = Artifact::new(tree_content()).unwrap();
    let b = a.clone().with_created_at("1999-12-31T23:59:59Z");
    let c = a.clone().with_created_at("2030-01-01T00:00:00Z");
    let loaded: Vec<String> = [a, b, c].iter().map(|x| Artifact::from_bytes(&x.to_bytes().unwrap(), None).unwrap().fingerprint).collect();
    assert_eq!(loaded[0], loaded[1]);
    assert_eq!(loaded[0], loaded[2]);
}

/// JSON with every object's keys written in reverse order, indented, with spaces around `:`.
fn write_reordered(v: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    match v {
        Value::Object(m) => {
            out.push_str("{\n");
            let keys: Vec<&String> = m.keys().rev().collect();
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&format!("{pad}{} :  ", serde_json::to_string(k).unwrap()));
                write_reordered(&m[*k], depth + 1, out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        Value::Array(a) => {
            out.push_str("[ ");
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(" ,\t");
                }
                write_reordered(x, depth + 1, out);
            }
            out.push_str(" ]");
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

#[test]
fn fingerprint_ignores_key_order_and_whitespace() {
    let original = valid_bytes();
    let fp = Artifact::from_bytes(&original, None).unwrap().fingerprint;
    let mut text = String::new();
    write_reordered(&serde_json::from_slice(&original).unwrap(), 0, &mut text);
    assert_ne!(text.as_bytes(), &original[..]);
    assert!(text.find("\"trees\"").unwrap() < text.find("\"features\"").unwrap(), "keys really are reordered");
    // The stored fingerprint still verifies, and the pin still matches.
    let b = Artifact::from_bytes(text.as_bytes(), Some(&fp)).unwrap();
    assert_eq!(b.fingerprint, fp);
    // Numbers written differently but equal (1.0 vs 1, 0.5 vs 5e-1) are the same content.
    let respelled = text.replace("0.5", "5e-1");
    assert_ne!(respelled, text);
    assert_eq!(Artifact::from_bytes(respelled.as_bytes(), Some(&fp)).unwrap().fingerprint, fp);
}

#[test]
fn fingerprint_changes_with_the_content() {
    let a = Artifact::new(tree_content()).unwrap();
    let mut c = tree_content();
    if let ModelSpec::TreeEnsemble(m) = &mut c.model {
        m.trees[0].threshold[0] = 0.5000000000000001;
    }
    assert_ne!(Artifact::new(c).unwrap().fingerprint, a.fingerprint);
}

#[test]
fn fingerprint_ignores_how_numbers_are_spelled_and_omitted_defaults() {
    let original = valid_bytes();
    let fp = Artifact::from_bytes(&original, None).unwrap().fingerprint;
    let mut d = doc();
    // Integers where the format has floats (R's jsonlite writes 1 for 1.0) ...
    let t = &mut d["content"]["model"]["trees"][0];
    t["threshold"] = json!([0.5, 0, 0, 0, 0]);
    t["value"] = json!([0, 0.1, 0, 0.2, -0.3]);
    // ... and fields left out at their defaults.
    t.as_object_mut().unwrap().remove("target");
    t.as_object_mut().unwrap().remove("leaf_width");
    let text = serde_json::to_string(&d).unwrap();
    assert!(text.contains("\"threshold\":[0.5,0,0,0,0]"), "{text}");
    let b = Artifact::from_bytes(text.as_bytes(), Some(&fp)).expect("same model, same fingerprint, stored one verifies");
    assert_eq!(b.fingerprint, fp);
}

#[test]
fn category_split_with_a_huge_category_is_refused() {
    // A four-billion category would make a half-gigabyte bitset at load.
    expect_err(with_tree(|t| t["category_splits"][0]["categories"] = json!([1, 4_000_000_000u32])), KilnStatus::InvalidModel, &["node 2", "category 4000000000"]);
    expect_err(with_tree(|t| t["category_splits"][0]["node"] = json!(9)), KilnStatus::InvalidModel, &["node 9"]);
    expect_err(with_tree(|t| t["category_splits"][0]["node"] = json!(1)), KilnStatus::InvalidModel, &["node 1", "leaf"]);
    with_tree(|t| t["category_splits"][0]["categories"] = json!([0, (1u32 << 24) - 1])).expect("a large but bounded category is fine");
}

/// A file this large has its model planned on a second thread while the loading thread hashes
/// the file and then packs the trees (`Scorer::from_bytes`): the packing reads trees that are
/// not yet validated. A broken tree must still get validation's error, not a panic, and the
/// valid file must load and score as the small one does.
#[test]
fn a_large_file_s_broken_tree_gets_validation_s_error_while_the_trees_are_packed() {
    let mut d = doc();
    let tree = d["content"]["model"]["trees"][0].clone();
    d["content"]["model"]["trees"] = Value::Array(vec![tree; 5000]);
    let load = |d: &Value| {
        let mut d = d.clone();
        d.as_object_mut().unwrap().remove("fingerprint");
        let bytes = serde_json::to_vec(&d).unwrap();
        assert!(bytes.len() > 1 << 20, "{} bytes: not large enough to be prepared on two threads", bytes.len());
        kiln::Scorer::from_bytes(&bytes, None)
    };
    let scorer = load(&d).expect("the valid large file loads");
    assert_eq!(scorer.tree_shape().map(|s| (s.n_trees, s.depth)), Some((5000, 2)));
    type Break = (fn(&mut Value), &'static [&'static str]);
    let breaks: [Break; 5] = [
        (|t| t["left"][0] = json!(99), &["node 0", "left child 99"]),
        (|t| t["right"][2] = json!(-3), &["node 2", "right child -3"]),
        (|t| { t["left"].as_array_mut().unwrap().pop(); }, &["'left'"]),
        (|t| { t["value"].as_array_mut().unwrap().clear(); }, &["'value'", "0 entries"]),
        // Leaf 1 becomes a split whose left child is the root: a cycle.
        (|t| {
            t["feature"][1] = json!(0);
            t["left"][1] = json!(0);
            t["right"][1] = json!(3);
        }, &["reached twice"]),
    ];
    for (k, (break_tree, words)) in breaks.iter().enumerate() {
        let mut bad = d.clone();
        break_tree(&mut bad["content"]["model"]["trees"][4321]);
        let e = load(&bad).expect_err("a broken tree must not load");
        assert_eq!(e.status(), KilnStatus::InvalidModel, "break {k}: {e}");
        for w in words.iter().chain(&["tree 4321"]) {
            assert!(e.message().contains(w), "break {k}: message {:?} should mention {w:?}", e.message());
        }
    }
}
