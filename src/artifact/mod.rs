//! The artifact: one versioned, self-describing file (`.kiln`) holding the input schema, the
//! fitted pipeline, the model, its outputs, provenance and (optionally) a reference profile,
//! sealed by a SHA-256 content fingerprint.
//!
//! This room knows the file format, its versions and its validation. It knows nothing about
//! execution: `plan/` turns a loaded [`Artifact`] into something that scores.
//!
//! File layout (JSON, the readable interchange form):
//! ```json
//! {"format": "kiln", "format_version": "1.0", "fingerprint": "sha256:<hex>",
//!  "created_at": "...", "content": {"schema": ..., "pipeline": [...], "model": ...,
//!  "outputs": [...], "provenance": ..., "profile": ...}}
//! ```
//! The fingerprint is SHA-256 over the canonical encoding of `content` as kiln encodes it (parsed
//! into its types and re-encoded, so spelling and omitted defaults do not count): compact JSON
//! with object keys sorted and numbers in shortest round-trip form. `created_at` sits outside `content` so
//! that the same fit gives the same fingerprint at any time.
//!
//! kiln writes the content in that canonical encoding, last in the envelope, so that loading a
//! file kiln wrote hashes the content's bytes as they lie in the file (a few milliseconds for a
//! 10 MB model) instead of re-encoding it; any other file, or one altered since, is re-encoded
//! and hashed as before (see [`fingerprint_as_written`]).

mod canonical;
pub mod model;
pub(crate) mod packed;
pub mod pipeline;
mod split;
mod tree_text;
pub mod text;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use model::*;
pub use pipeline::*;

use crate::error::{Error, KilnStatus, Result};
use crate::schema::Schema;

/// The format version this library writes, and the newest it reads.
pub const FORMAT_MAJOR: u32 = 1;
pub const FORMAT_MINOR: u32 = 0;
const FORMAT_TAG: &str = "kiln";

/// One output column of the model.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    /// What the number means, e.g. "probability of class 'yes'".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl OutputSpec {
    pub fn new(name: impl Into<String>) -> Self {
        OutputSpec { name: name.into(), description: String::new() }
    }
}

/// Where the artifact came from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Producing library, e.g. "xgboost", "lightgbm", "scikit-learn", "kiln".
    pub library: String,
    #[serde(default)]
    pub library_version: String,
    /// Training parameters as the producing library named them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Fingerprint of the training data, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fingerprint: Option<String>,
    /// Random seed of the fit, where there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The kiln version that wrote the artifact.
    #[serde(default)]
    pub kiln_version: String,
}

/// Everything the fingerprint covers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Content {
    pub schema: Schema,
    #[serde(default)]
    pub pipeline: Vec<Step>,
    pub model: ModelSpec,
    pub outputs: Vec<OutputSpec>,
    #[serde(default)]
    pub provenance: Provenance,
    /// Reference profile of the training data (sketches), where one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<serde_json::Value>,
}

/// A loaded, validated artifact.
#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    pub content: Content,
    /// `"sha256:<64 hex digits>"` of the canonical content.
    pub fingerprint: String,
    /// ISO-8601 creation time (not covered by the fingerprint).
    pub created_at: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<C> {
    format: String,
    format_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    content: C,
}

impl Artifact {
    /// Seal `content` into a validated artifact, computing its fingerprint.
    pub fn new(mut content: Content) -> Result<Self> {
        if content.provenance.kiln_version.is_empty() {
            content.provenance.kiln_version = crate::VERSION.to_string();
        }
        validate::validate(&content)?;
        let fingerprint = fingerprint_of(&content, 0)?;
        Ok(Artifact { content, fingerprint, created_at: None })
    }

    /// Parse and validate an artifact from bytes. `expect_fingerprint`, when given, must match.
    pub fn from_bytes(bytes: &[u8], expect_fingerprint: Option<&str>) -> Result<Self> {
        Self::from_bytes_then(bytes, expect_fingerprint, |_| Ok(()), |_| ()).map(|(artifact, (), ())| artifact)
    }

    /// [`Artifact::from_bytes`], and `then` run on the validated content (e.g. preparing it to
    /// score), and `beside` on the content as parsed, whether it validates or not (work that
    /// cannot fail and whose result is dropped with any error, e.g. packing a copy to keep).
    /// For a large artifact, validation and `then` run on a second thread while the calling
    /// thread computes the fingerprint (hashing the file, or re-encoding the content where the
    /// file is not in the canonical form) and then runs `beside`: the two threads' shares were
    /// about even for the peers' forest (6 + 9 ms against 4 + 13 ms) and LightGBM model (7 + 7
    /// against 4 + 9). Errors keep their order: a fingerprint that
    /// does not match, then the pin, then validation, then `then`'s own.
    pub fn from_bytes_then<R: Send, S>(
        bytes: &[u8],
        expect_fingerprint: Option<&str>,
        then: impl FnOnce(&Content) -> Result<R> + Send,
        beside: impl FnOnce(&Content) -> S,
    ) -> Result<(Self, R, S)> {
        // Straight from bytes into the typed content: most of a large model's load time was the
        // intermediate `Value`. Any failure re-runs the step-by-step parse below, so that a bad
        // file gets the same error (and the same precedence of errors) either way.
        // A large tree ensemble is read on several threads where the file can be cut safely.
        let envelope = match split::parse_in_shares(bytes).map_or_else(|| serde_json::from_slice::<Envelope<Content>>(bytes), Ok) {
            Ok(envelope) => envelope,
            Err(_) => Self::parse_stepwise(bytes)?,
        };
        if envelope.format != FORMAT_TAG {
            return Err(Error::malformed(format!("not a kiln artifact: format is '{}', expected 'kiln'", envelope.format)));
        }
        check_version(&envelope.format_version)?;
        let mut content = envelope.content;
        if let ModelSpec::TreeEnsemble(model) = &mut content.model {
            model.trees.iter_mut().for_each(TreeSpec::shrink_to_fit); // a no-op for shares already shrunk
        }
        // Hash the typed content, re-encoded, not the raw JSON: a writer that spells a float
        // field `1` instead of `1.0` (R's jsonlite does), or leaves out a field at its default,
        // wrote the same model and must get the same fingerprint as `Artifact::new` computes.
        // A file as kiln writes it holds the canonical encoding: its bytes are hashed as they lie.
        let (stored, version, created_at) = (envelope.fingerprint.as_deref(), envelope.format_version.as_str(), envelope.created_at.as_deref());
        let fingerprint_now = || fingerprint_as_written(bytes, stored, version, created_at).map_or_else(|| fingerprint_of(&content, bytes.len()), Ok);
        let checked_then = || validate::validate(&content).and_then(|()| then(&content));
        let (fingerprint, checked, beside) = if bytes.len() >= FINGERPRINT_THREAD_FROM_BYTES {
            // The hashing stays on the calling thread: its encoding is as large as the file and
            // is dropped at once. Made on a helper thread, glibc puts it in that thread's arena,
            // whose free top it never gives back (`malloc_trim` trims only the main arena's top),
            // so a process kept the file's size again, resident and unused, after each load.
            std::thread::scope(|scope| {
                let checking = scope.spawn(checked_then);
                let fingerprint = fingerprint_now();
                let beside = beside(&content);
                let checked = checking.join().unwrap_or_else(|_| Err(Error::internal("the thread preparing the model panicked")));
                (fingerprint, checked, beside)
            })
        } else {
            (fingerprint_now(), checked_then(), beside(&content))
        };
        let fingerprint = fingerprint?;
        if let Some(stored) = &envelope.fingerprint {
            if *stored != fingerprint {
                return Err(Error::new(
                    KilnStatus::FingerprintMismatch,
                    format!("artifact content does not match its stored fingerprint (stored {stored}, content hashes to {fingerprint}): the file was altered or corrupted"),
                ));
            }
        }
        if let Some(expected) = expect_fingerprint {
            check_pin(expected, &fingerprint)?;
        }
        let then_value = checked?;
        Ok((Artifact { content, fingerprint, created_at: envelope.created_at }, then_value, beside))
    }

    /// The envelope first, then the content: a file that is not a kiln artifact, or is of a
    /// newer format version, says so before any complaint about its content.
    fn parse_stepwise(bytes: &[u8]) -> Result<Envelope<Content>> {
        let envelope: Envelope<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| {
            let what = if e.is_eof() { "truncated artifact" } else { "malformed artifact" };
            Error::malformed(format!("{what}: {e}"))
        })?;
        if envelope.format != FORMAT_TAG {
            return Err(Error::malformed(format!("not a kiln artifact: format is '{}', expected 'kiln'", envelope.format)));
        }
        check_version(&envelope.format_version)?;
        let Envelope { format, format_version, fingerprint, created_at, content } = envelope;
        let content: Content = serde_json::from_value(content).map_err(|e| Error::malformed(format!("artifact content: {e}")))?;
        Ok(Envelope { format, format_version, fingerprint, created_at, content })
    }

    /// Read and validate an artifact file.
    pub fn load(path: impl AsRef<Path>, expect_fingerprint: Option<&str>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        Self::from_bytes(&bytes, expect_fingerprint).map_err(|e| e.context(format!("artifact {}", path.display())))
    }

    /// The artifact file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let version = format!("{FORMAT_MAJOR}.{FORMAT_MINOR}");
        let encoding = |e: serde_json::Error| Error::internal(format!("encoding artifact: {e}"));
        let mut bytes = envelope_head(&version, Some(&self.fingerprint), self.created_at.as_deref()).map_err(encoding)?;
        canonical::append(&self.content, &mut bytes, 0).map_err(encoding)?;
        bytes.push(b'}');
        Ok(bytes)
    }

    /// Write the artifact file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()?).map_err(|e| Error::io(format!("writing artifact {}: {e}", path.display())))
    }

    /// Set the creation time (outside the fingerprint).
    pub fn with_created_at(mut self, at: impl Into<String>) -> Self {
        self.created_at = Some(at.into());
        self
    }
}

/// Artifacts at least this large (about 50 trees of depth 8) have their fingerprint computed on a
/// thread of its own while the content is validated and prepared; below it a thread costs more
/// than it saves.
const FINGERPRINT_THREAD_FROM_BYTES: usize = 1 << 19;

/// An artifact file's bytes.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(format!("reading artifact {}: {e}", path.display())))
}

fn check_version(v: &str) -> Result<()> {
    let parsed = v.split_once('.').and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    let Some((major, minor)) = parsed else {
        return Err(Error::malformed(format!("format_version '{v}' is not of the form MAJOR.MINOR")));
    };
    if (major, minor) > (FORMAT_MAJOR, FORMAT_MINOR) {
        return Err(Error::new(
            KilnStatus::UnsupportedVersion,
            format!("artifact format version {major}.{minor} is newer than this kiln reads ({FORMAT_MAJOR}.{FORMAT_MINOR}); upgrade kiln"),
        ));
    }
    Ok(())
}

fn check_pin(expected: &str, actual: &str) -> Result<()> {
    let norm = |s: &str| s.trim().strip_prefix("sha256:").unwrap_or(s.trim()).to_ascii_lowercase();
    if norm(expected) != norm(actual) {
        return Err(Error::new(
            KilnStatus::FingerprintMismatch,
            format!("fingerprint mismatch: the host pinned {expected}, the artifact is {actual}"),
        ));
    }
    Ok(())
}

/// SHA-256 over the canonical JSON encoding of the content (see [`canonical`]); `size_hint` is
/// the length of the file it was read from, if any.
fn fingerprint_of(content: &Content, size_hint: usize) -> Result<String> {
    let digest = canonical::sha256(content, size_hint).map_err(|e| Error::internal(format!("canonical encoding: {e}")))?;
    Ok(fingerprint_text(&digest))
}

fn fingerprint_text(digest: &[u8]) -> String {
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// What [`Artifact::to_bytes`] writes before the content: the envelope's other fields, in the
/// order [`Envelope`] declares them, then `"content":`. The content's canonical encoding and the
/// closing `}` follow.
fn envelope_head(format_version: &str, fingerprint: Option<&str>, created_at: Option<&str>) -> std::result::Result<Vec<u8>, serde_json::Error> {
    /// [`Envelope`]'s fields before `content`, spelled and skipped as it spells and skips them.
    #[derive(Serialize)]
    struct Head<'a> {
        format: &'a str,
        format_version: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        fingerprint: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        created_at: Option<&'a str>,
    }
    let mut bytes = serde_json::to_vec(&Head { format: FORMAT_TAG, format_version, fingerprint, created_at })?;
    bytes.pop(); // the `}`
    bytes.extend_from_slice(b",\"content\":");
    Ok(bytes)
}

/// The stored fingerprint of a file laid out as kiln writes it, when the content's bytes in the
/// file hash to it; `None` otherwise (another writer's spacing or key order, an older kiln's
/// field order, or bytes altered since), and the caller re-encodes the content to hash it.
///
/// Sound because the file is then exactly [`envelope_head`], one JSON value `v`, and `}`: the
/// parser read `v` as the content, and `v` hashing to the stored fingerprint means it is the
/// canonical encoding that fingerprint was computed from (SHA-256 being collision resistant).
/// The canonical encoding reads back to the same values and so re-encodes to the same bytes
/// (float64 in shortest round-trip form, read with `float_roundtrip`; `tests` check this on
/// every kind of model), so the re-encoding would have hashed to the same fingerprint.
fn fingerprint_as_written(bytes: &[u8], stored: Option<&str>, format_version: &str, created_at: Option<&str>) -> Option<String> {
    let stored = stored?;
    let head = envelope_head(format_version, Some(stored), created_at).ok()?;
    let content = bytes.strip_prefix(head.as_slice())?.strip_suffix(b"}")?;
    use sha2::Digest;
    let hashed = fingerprint_text(&sha2::Sha256::digest(content));
    (hashed == stored).then_some(hashed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every artifact the repository ships: the golden cases (linear pipeline, XGBoost- and
    /// LightGBM-style trees, a forest, rules) and the test models.
    fn shipped() -> Vec<Artifact> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<_> = std::fs::read_dir(root.join("tests/golden")).unwrap().flatten().map(|e| e.path().join("model.kiln")).filter(|p| p.is_file()).collect();
        paths.extend(["tests/data/credit_logistic.kiln", "tests/data/credit_trees.kiln", "examples/bank/model.kiln"].map(|p| root.join(p)));
        assert!(paths.len() >= 8, "{paths:?}");
        paths.iter().map(|p| Artifact::load(p, None).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).collect()
    }

    fn as_written(bytes: &[u8]) -> Option<String> {
        let envelope: Envelope<serde_json::Value> = serde_json::from_slice(bytes).unwrap();
        fingerprint_as_written(bytes, envelope.fingerprint.as_deref(), &envelope.format_version, envelope.created_at.as_deref())
    }

    #[test]
    fn files_kiln_writes_hold_the_canonical_content_their_fingerprint_hashes() {
        for a in shipped() {
            for a in [a.clone(), a.with_created_at("2026-12-06 \"quoted\" \\ \u{1} ü")] {
                let bytes = a.to_bytes().unwrap();
                assert_eq!(as_written(&bytes).as_deref(), Some(a.fingerprint.as_str()));
                // The content read back re-encodes to the bytes in the file, so hashing them is
                // hashing its re-encoding.
                let back: Envelope<Content> = serde_json::from_slice(&bytes).unwrap();
                let canonical = canonical::to_canonical(&back.content).unwrap();
                let head = envelope_head("1.0", Some(&a.fingerprint), a.created_at.as_deref()).unwrap();
                assert_eq!(&bytes[head.len()..bytes.len() - 1], canonical.as_slice());
                assert_eq!(fingerprint_of(&back.content, 0).unwrap(), a.fingerprint);
                assert_eq!(Artifact::from_bytes(&bytes, Some(&a.fingerprint)).unwrap().content, a.content);
            }
        }
    }

    #[test]
    fn other_layouts_are_re_encoded_and_altered_bytes_are_caught() {
        for a in shipped() {
            let envelope = |content| Envelope { format: "kiln".into(), format_version: "1.0".into(), fingerprint: Some(a.fingerprint.clone()), created_at: None, content };
            // The field order kiln 0.1 wrote, pretty-printed, and with a trailing newline: read
            // and hashed by re-encoding, to the same fingerprint.
            let old_order = serde_json::to_vec(&envelope(&a.content)).unwrap();
            let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&a.to_bytes().unwrap()).unwrap()).unwrap();
            let mut newline = a.to_bytes().unwrap();
            newline.push(b'\n');
            for bytes in [old_order, pretty, newline] {
                assert_eq!(as_written(&bytes), None);
                assert_eq!(Artifact::from_bytes(&bytes, Some(&a.fingerprint)).unwrap().fingerprint, a.fingerprint);
            }
            // The leading digit of the content's last such number changed, the layout kept: the
            // hash no longer matches, and the re-encoding names the mismatch.
            let mut altered = a.to_bytes().unwrap();
            let at = (1..altered.len()).rev().find(|&i| b"[:,".contains(&altered[i - 1]) && (b'1'..=b'8').contains(&altered[i])).unwrap();
            altered[at] += 1;
            assert_eq!(as_written(&altered), None);
            let err = Artifact::from_bytes(&altered, None).unwrap_err();
            assert_eq!(err.status(), KilnStatus::FingerprintMismatch, "{}", err.message());
        }
    }
}
