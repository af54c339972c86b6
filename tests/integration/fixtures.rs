//! The committed fixture artifacts under `tests/data/` (read by the C test and the bindings)
//! must be exactly what `tests/integration/common` builds. Regenerate with
//! `KILN_WRITE_FIXTURES=1 cargo test --test integration -- fixtures::`.

use crate::common;

#[test]
fn committed_fixtures_match_their_builders() {
    for (name, artifact) in [("credit_trees.kiln", common::trees()), ("credit_logistic.kiln", common::logistic())] {
        let path = common::data_path(name);
        let bytes = artifact.to_bytes().unwrap();
        if std::env::var_os("KILN_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).unwrap();
            std::fs::write(path.with_extension("fingerprint"), format!("{}\n", artifact.fingerprint)).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} differs from the fixture builder in tests/integration/common/mod.rs; run `KILN_WRITE_FIXTURES=1 cargo test --test integration -- fixtures::`",
            path.display()
        );
        let pinned = std::fs::read_to_string(path.with_extension("fingerprint")).unwrap_or_default();
        assert_eq!(pinned.trim(), artifact.fingerprint, "{name}: the .fingerprint file is stale");
    }
}
