//! Reading a tree ensemble's trees by hand, and a large one on several threads. The `trees`
//! array is nearly all of a large artifact (11 MB for 500 trees of 255 leaves): each tree is
//! read by `tree_text` (serde_json where that declines), and serde_json, which reads one byte
//! stream on one thread, reads the rest of the file. A large file's array is cut between trees
//! and its shares are read side by side.
//!
//! Only a cut that cannot be wrong is taken: the file must hold `"trees":[` exactly once, each
//! cut sits just before a `{` that follows `},` and opens with a key a tree's encoding can open
//! with (`target` in the field order kiln 0.1 wrote; `category_splits`, `default_left` or
//! `feature` in the sorted canonical order kiln writes now), every tree
//! of a share (cut at the same boundaries) must read as a whole tree, and the model read must
//! be a tree ensemble. A string cannot hide any of these (its quotes are escaped), so a share
//! that reads is a run of the array's elements. Anything else, a foreign writer's spacing or key order included, returns
//! `None`, and the caller reads the file on one thread as before.

use memchr::memmem;

use super::{Content, Envelope, ModelSpec, TreeSpec};

/// Files smaller than this are read on one thread. At 1 MiB a 5.5 MB XGBoost artifact
/// (500 trees of depth 8) loaded with two reading threads held 13.5 MB resident against 8.5 MB
/// read on one (benches/peers/memory.py, glibc: memory the reading thread's allocator arena
/// keeps), for a few milliseconds of load; larger files (LightGBM's 11.5 MB, a forest's 9.7
/// MB) showed no such difference and gain the most.
pub(super) const PARALLEL_FROM_BYTES: usize = 8 << 20;
/// At most this many threads read one file.
const MAX_THREADS: usize = 4;

const TREES_KEY: &[u8] = b"\"trees\":[";
/// A cut lies between the `},` and the `{"` of the next tree.
const BETWEEN_OBJECTS: &[u8] = b"},{\"";
/// The keys a tree's object can open with, as kiln writes it: the first field in declaration
/// order, and the first field in sorted order, which skips the empty optional arrays.
const TREE_FIRST_KEYS: [&[u8]; 4] = [b"target\":", b"category_splits\":", b"default_left\":", b"feature\":"];

/// Whether the `},{"` at `at` in `hay` lies between two trees: a key a tree opens with follows.
/// Category splits, the only other objects inside a tree, open with none of these.
fn between_trees(hay: &[u8], at: usize) -> bool {
    let key = &hay[at + BETWEEN_OBJECTS.len()..];
    TREE_FIRST_KEYS.iter().any(|k| key.starts_with(k))
}

/// Where in `hay` the `},` between two trees lies (the index of its `}`).
fn boundaries<'h>(finder: &'h memmem::Finder<'h>, hay: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
    finder.find_iter(hay).filter(move |&at| between_trees(hay, at))
}

/// The envelope, with all the model's trees but the last read by hand (`tree_text`) on up to
/// `MAX_THREADS` threads (one below [`PARALLEL_FROM_BYTES`]); `None` where the file cannot be
/// cut safely or a tree does not read.
pub(super) fn parse_in_shares(bytes: &[u8]) -> Option<Envelope<Content>> {
    let threads = if bytes.len() < PARALLEL_FROM_BYTES { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS) };
    let mut keys = memmem::find_iter(bytes, TREES_KEY);
    let (Some(key), None) = (keys.next(), keys.next()) else { return None };
    let open = key + TREES_KEY.len() - 1; // the array's `[`
    // The last tree stays in the file, read with the envelope: where the array ends is known
    // only once a tree is read through.
    let last = memmem::rfind_iter(&bytes[open..], BETWEEN_OBJECTS).find(|&at| between_trees(&bytes[open..], at))? + open + 1; // at the `,`
    // Cut points: the first tree boundary after each equal fraction of the trees before `last`.
    let finder = memmem::Finder::new(BETWEEN_OBJECTS);
    let mut cuts: Vec<usize> = Vec::with_capacity(threads);
    for i in 1..threads {
        let from = open + (last - open) * i / threads;
        let from = from.max(cuts.last().map_or(open, |&c| c + 1));
        match boundaries(&finder, &bytes[from..last]).next() {
            Some(at) => cuts.push(from + at + 1), // at the `,`
            None => break,
        }
    }
    cuts.push(last);
    let mut starts = vec![open + 1];
    starts.extend(cuts.iter().map(|c| c + 1));
    // Each tree of a share is read in place, from its own slice of the file: a copy of the
    // share (megabytes) would be freed into the reading thread's allocator arena, where glibc
    // keeps a freed top resident; it showed as ~4 MB more resident memory per loaded model.
    let read_tree = |text: &[u8]| -> Option<TreeSpec> {
        super::tree_text::read_tree(text).or_else(|| {
            let mut tree: TreeSpec = serde_json::from_slice(text).ok()?;
            tree.shrink_to_fit();
            Some(tree)
        })
    };
    let read_share = |from: usize, to: usize| -> Option<Vec<TreeSpec>> {
        let share = &bytes[from..to];
        let mut trees = Vec::new();
        let mut start = 0;
        for at in boundaries(&finder, share) {
            trees.push(read_tree(&share[start..=at])?);
            start = at + 2; // past the `},`
        }
        trees.push(read_tree(&share[start..])?);
        Some(trees)
    };
    // The file with the array starting at the last tree.
    let read_rest = || {
        let mut text = Vec::with_capacity(bytes.len() - last + open + 1);
        text.extend_from_slice(&bytes[..=open]);
        text.extend_from_slice(&bytes[last + 1..]);
        serde_json::from_slice::<Envelope<Content>>(&text).ok()
    };
    let (shares, rest) = if cuts.len() == 1 {
        // One share: no thread scope at all (a scope gives the calling thread a handle that
        // lives as long as the thread: a host's leak checker reports it).
        (vec![read_share(starts[0], cuts[0])], read_rest())
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = starts.windows(2).zip(&cuts).skip(1).map(|(w, &cut)| {
                let from = w[0];
                scope.spawn(move || read_share(from, cut))
            }).collect();
            // This thread reads the first share, then the rest.
            let mut shares = vec![read_share(starts[0], cuts[0])];
            let rest = read_rest();
            shares.extend(handles.into_iter().map(|h| h.join().ok().flatten()));
            (shares, rest)
        })
    };
    let mut envelope = rest?;
    let ModelSpec::TreeEnsemble(model) = &mut envelope.content.model else { return None };
    let mut trees = Vec::with_capacity(shares.iter().map(|s| s.as_ref().map_or(0, Vec::len)).sum::<usize>() + model.trees.len());
    for share in shares {
        trees.extend(share?);
    }
    trees.append(&mut model.trees);
    model.trees = trees;
    Some(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::Artifact;

    /// A golden tree ensemble (categorical splits, missing-value handling) with its trees
    /// repeated until the file is past the parallel threshold, and the file's bytes.
    fn large(golden: &str, extra_param: Option<(&str, serde_json::Value)>) -> (Content, Vec<u8>) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(golden).join("model.kiln");
        let mut content = Artifact::load(&path, None).unwrap().content;
        let ModelSpec::TreeEnsemble(m) = &mut content.model else { panic!("{golden} is not a tree ensemble") };
        let one = m.trees.clone();
        while m.trees.len() * 300 < PARALLEL_FROM_BYTES * 2 {
            m.trees.extend(one.iter().cloned());
        }
        if let Some((k, v)) = extra_param {
            content.provenance.params.insert(k.to_string(), v);
        }
        let bytes = Artifact::new(content.clone()).unwrap().to_bytes().unwrap();
        assert!(bytes.len() > PARALLEL_FROM_BYTES, "{} bytes", bytes.len());
        (content, bytes)
    }

    #[test]
    fn a_large_ensemble_read_in_shares_is_the_one_read_whole() {
        if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
            return; // one thread: nothing is cut (checked by the fallback tests below)
        }
        for golden in ["trees_binary_missing_categorical", "trees_multiclass_softmax", "forest_regression_average"] {
            let (content, bytes) = large(golden, None);
            let shares = parse_in_shares(&bytes).unwrap_or_else(|| panic!("{golden}: not cut"));
            let whole: Envelope<Content> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(shares.content, whole.content, "{golden}");
            assert_eq!(shares.content, content, "{golden}");
            assert_eq!(shares.fingerprint, whole.fingerprint);
            // And the artifact loads with its fingerprint checked.
            Artifact::from_bytes(&bytes, None).unwrap();
        }
    }

    #[test]
    fn a_small_ensemble_is_read_by_hand_on_one_thread_as_serde_json_reads_it() {
        for golden in ["trees_binary_missing_categorical", "trees_multiclass_softmax", "forest_regression_average"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(golden).join("model.kiln");
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.len() < PARALLEL_FROM_BYTES);
            let by_hand = parse_in_shares(&bytes).unwrap_or_else(|| panic!("{golden}: not read by hand"));
            let whole: Envelope<Content> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(by_hand.content, whole.content, "{golden}");
        }
    }

    #[test]
    fn files_that_cannot_be_cut_safely_are_read_whole() {
        // "trees":[ twice (here in the provenance): no cut, and the file still reads.
        let (content, bytes) = large("trees_binary_missing_categorical", Some(("trees", serde_json::json!([{"target": 1}, {"target": 2}]))));
        assert!(parse_in_shares(&bytes).is_none());
        assert_eq!(Artifact::from_bytes(&bytes, None).unwrap().content, content);
        // Spacing other than kiln's: no key found.
        let (content, bytes) = large("trees_multiclass_softmax", None);
        let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()).unwrap();
        assert!(parse_in_shares(&pretty).is_none());
        assert_eq!(Artifact::from_bytes(&pretty, None).unwrap().content, content);
        // One tree: nothing to cut.
        let mut content = Artifact::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/trees_multiclass_softmax/model.kiln"), None).unwrap().content;
        let ModelSpec::TreeEnsemble(m) = &mut content.model else { panic!("not a tree ensemble") };
        m.trees.truncate(1);
        let one = Artifact::new(content.clone()).unwrap().to_bytes().unwrap();
        assert!(parse_in_shares(&one).is_none());
        assert_eq!(Artifact::from_bytes(&one, None).unwrap().content, content);
    }

    #[test]
    fn a_broken_tree_in_a_share_gets_the_whole_file_s_error() {
        let (_, bytes) = large("trees_binary_missing_categorical", None);
        // Break a tree early in the file (in the first share) and one late (in the last).
        for frac in [0.1, 0.9] {
            let mut broken = bytes.clone();
            let from = (broken.len() as f64 * frac) as usize;
            let at = from + memmem::find(&broken[from..], b"\"threshold\":[").unwrap();
            broken[at + 1] = b'T'; // an unknown field: "Threshold"
            assert!(parse_in_shares(&broken).is_none());
            let err = Artifact::from_bytes(&broken, None).unwrap_err();
            assert!(err.message().contains("unknown field `Threshold`"), "{}", err.message());
        }
    }

    #[test]
    fn a_large_artifact_still_checks_its_fingerprint_and_pin_first() {
        use crate::error::KilnStatus;
        let (_, bytes) = large("trees_binary_missing_categorical", None);
        let good = Artifact::from_bytes(&bytes, None).unwrap();
        // Altered content (a leaf value) under the stored fingerprint.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let at = text.rfind("\"value\":[").unwrap() + "\"value\":[".len();
        let mut altered = text.clone();
        altered.insert(at, '1');
        let err = Artifact::from_bytes(altered.as_bytes(), None).unwrap_err();
        assert_eq!(err.status(), KilnStatus::FingerprintMismatch, "{}", err.message());
        // A wrong pin.
        let pin = format!("sha256:{}", "0".repeat(64));
        assert_eq!(Artifact::from_bytes(&bytes, Some(&pin)).unwrap_err().status(), KilnStatus::FingerprintMismatch);
        Artifact::from_bytes(&bytes, Some(&good.fingerprint)).unwrap();
        // Invalid content whose fingerprint is altered too: the fingerprint is named first.
        let invalid = text.replacen("\"n_targets\":1", "\"n_targets\":0", 1);
        assert_ne!(invalid, text);
        let err = Artifact::from_bytes(invalid.as_bytes(), None).unwrap_err();
        assert_eq!(err.status(), KilnStatus::FingerprintMismatch, "{}", err.message());
    }
}
