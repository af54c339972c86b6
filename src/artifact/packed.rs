//! Trees kept packed: a loaded model's tree arrays in a lossless byte form about a third of
//! their size, unpacked only when the artifact is written out again or read whole.
//!
//! A loaded [`crate::Scorer`] scores from its prepared layout (`model/tree/`), and needs the
//! artifact's own trees only to save the model, to re-seal it with a reference profile, or to
//! show it. Kept as parsed (30 bytes a node) they were most of a loaded model's memory: more than
//! the prepared nodes themselves. Packed, every value keeps its exact bits (NaN payloads and
//! signed zeros too), so the unpacked trees re-encode to the same bytes and fingerprint.
//!
//! Per tree, each per-node array in turn, as its length (LEB128) followed by:
//! - `feature`: zigzag LEB128 of each value.
//! - `threshold`, `value`: a 2-bit tag per value (four to a byte), then the payloads in order:
//!   tag 0 for all-zero bits (no payload), 1 for a value a float32 holds exactly (4 bytes), 2 for
//!   any other (8 bytes).
//! - `left`, `right`: LEB128 of 0 for -1 (a leaf), else of 1 + zigzag of the distance from a
//!   guess: `left` from the node's index plus one (a depth-first layout) or from one past the
//!   highest child so far (a breadth-first one), whichever the tree packs smaller, recorded in a
//!   mode byte; `right` from `left + 1`.
//! - `default_left`: one bit per value; `missing`: two bits per value.
//!
//! Category splits are rare and small: they stay as they are.

use super::model::{CategorySplit, Missing, TreeSpec};
use crate::error::{Error, Result};

/// What of one tree is not in the shared bytes.
#[derive(Debug, Clone, PartialEq)]
struct TreeHead {
    target: u32,
    leaf_width: u32,
    category_splits: Vec<CategorySplit>,
    /// Where the tree's bytes end (they start where the previous tree's end).
    end: usize,
}

/// An ensemble's trees, packed (see the module documentation) into one allocation: one block
/// leaves no small live pieces scattered among the freed arrays of the parsed trees, so the
/// allocator can give all of those back to the system.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct PackedTrees {
    heads: Box<[TreeHead]>,
    bytes: Box<[u8]>,
}

impl PackedTrees {
    /// Pack `trees`.
    pub(crate) fn pack(trees: &[TreeSpec]) -> Self {
        let mut bytes = Vec::with_capacity(trees.iter().map(|t| t.feature.len() * 8 + 64).sum());
        let heads = trees
            .iter()
            .map(|tree| {
                pack_tree(&mut bytes, tree);
                TreeHead { target: tree.target, leaf_width: tree.leaf_width, category_splits: tree.category_splits.clone(), end: bytes.len() }
            })
            .collect();
        PackedTrees { heads, bytes: bytes.into_boxed_slice() }
    }

    /// The trees as they were packed, bit for bit.
    pub(crate) fn unpack(&self) -> Result<Vec<TreeSpec>> {
        let mut start = 0;
        self.heads
            .iter()
            .map(|head| {
                let bytes = self.bytes.get(start..head.end).ok_or_else(|| Error::internal("packed tree: bad bounds"))?;
                start = head.end;
                unpack_tree(head, bytes)
            })
            .collect()
    }

    /// Bytes held.
    #[cfg(test)]
    pub(crate) fn packed_bytes(&self) -> usize {
        self.bytes.len()
    }
}

const LEFT_FROM_INDEX: u8 = 0;
const LEFT_FROM_HIGHEST: u8 = 1;

fn pack_tree(out: &mut Vec<u8>, tree: &TreeSpec) {
    put_len(out, tree.feature.len());
    out.reserve(tree.feature.len() * 2);
    tree.feature.iter().for_each(|&f| put_varint(out, zigzag(i64::from(f))));
    put_floats(out, &tree.threshold);
    // Both modes' sizes are counted in one pass, and only the smaller is written.
    let mut sizes = [0; 2];
    children(&tree.left, &tree.right, |codes| (0..2).for_each(|m| sizes[m] += varint_len(codes[m])));
    let mode = if sizes[usize::from(LEFT_FROM_HIGHEST)] < sizes[usize::from(LEFT_FROM_INDEX)] { LEFT_FROM_HIGHEST } else { LEFT_FROM_INDEX };
    out.push(mode);
    out.reserve(tree.left.len() * 2 + 20);
    children(&tree.left, &tree.right, |codes| put_varint(out, codes[usize::from(mode)]));
    put_len(out, tree.default_left.len());
    put_bits(out, tree.default_left.iter().map(|&b| u8::from(b)), 1);
    put_len(out, tree.missing.len());
    put_bits(out, tree.missing.iter().map(|m| missing_code(*m)), 2);
    put_floats(out, &tree.value);
}

fn unpack_tree(head: &TreeHead, bytes: &[u8]) -> Result<TreeSpec> {
    let mut r = Reader { bytes, at: 0 };
    let n = r.len()?;
    let feature = (0..n).map(|_| r.varint().and_then(unzigzag_i32)).collect::<Result<Vec<_>>>()?;
    let threshold = r.floats()?;
    let mode = r.byte()?;
    let (left, right) = r.children(mode)?;
    let n_default_left = r.len()?;
    let default_left = r.bits(n_default_left, 1)?.into_iter().map(|b| b == 1).collect();
    let n_missing = r.len()?;
    let missing = r.bits(n_missing, 2)?.into_iter().map(missing_from_code).collect::<Result<Vec<_>>>()?;
    let value = r.floats()?;
    if r.at != r.bytes.len() {
        return Err(Error::internal("packed tree: bytes left over"));
    }
    Ok(TreeSpec {
        target: head.target,
        leaf_width: head.leaf_width,
        feature,
        threshold,
        left,
        right,
        default_left,
        missing,
        category_splits: head.category_splits.clone(),
        value,
    })
}

fn missing_code(m: Missing) -> u8 {
    match m {
        Missing::Nan => 0,
        Missing::Zero => 1,
        Missing::AsZero => 2,
    }
}

fn missing_from_code(code: u8) -> Result<Missing> {
    match code {
        0 => Ok(Missing::Nan),
        1 => Ok(Missing::Zero),
        2 => Ok(Missing::AsZero),
        _ => Err(Error::internal("packed tree: bad missing code")),
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn unzigzag_i32(v: u64) -> Result<i32> {
    i32::try_from(unzigzag(v)).map_err(|_| Error::internal("packed tree: value out of range"))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The bytes `put_varint` writes for `v`.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    put_varint(out, n as u64);
}

/// `n_bits`-wide codes (1 or 2), packed low bits first.
fn put_bits(out: &mut Vec<u8>, codes: impl Iterator<Item = u8>, n_bits: u32) {
    let per_byte = 8 / n_bits;
    let (mut byte, mut filled) = (0u8, 0);
    for code in codes {
        byte |= code << (filled * n_bits);
        filled += 1;
        if filled == per_byte {
            out.push(byte);
            (byte, filled) = (0, 0);
        }
    }
    if filled > 0 {
        out.push(byte);
    }
}

// A tag is its payload's length in 4-byte words (`put_floats` moves by it).
const TAG_ZERO: u8 = 0;
const TAG_F32: u8 = 1;
const TAG_F64: u8 = 2;

fn float_tag(x: f64) -> u8 {
    let bits = x.to_bits();
    if bits == 0 {
        TAG_ZERO
    } else if f64::from(x as f32).to_bits() == bits {
        TAG_F32
    } else {
        TAG_F64
    }
}

fn put_floats(out: &mut Vec<u8>, xs: &[f64]) {
    put_len(out, xs.len());
    // The tags first (four to a byte), then the payloads. Each payload is written as 8 bytes
    // and the end moved by its length (4 bytes a tag step), with no branch on the tag: the
    // tags of a tree's thresholds and leaf values mix unpredictably. Packing the peers' forest
    // (100 trees of depth 12), Zen 3 host, best of 30: 11.2-12.1 -> 8.1-8.3 ms, with the count
    // of both child modes' sizes in one pass.
    let start = out.len();
    let n_tags = xs.len().div_ceil(4);
    out.resize(start + n_tags + xs.len() * 8, 0);
    let (tags, payloads) = out[start..].split_at_mut(n_tags);
    let mut end = 0;
    for (i, &x) in xs.iter().enumerate() {
        let tag = float_tag(x);
        tags[i / 4] |= tag << (2 * (i % 4));
        let payload = if tag == TAG_F32 { u64::from((x as f32).to_bits()) } else { x.to_bits() };
        payloads[end..end + 8].copy_from_slice(&payload.to_le_bytes());
        end += 4 * usize::from(tag);
    }
    out.truncate(start + n_tags + end);
}

/// The guess a node's left child is packed against.
fn left_guess(mode: u8, index: usize, highest: i64) -> i64 {
    if mode == LEFT_FROM_HIGHEST { highest + 1 } else { index as i64 + 1 }
}

/// A child as packed against `guess`: 0 for -1 (a leaf), else 1 + zigzag of the distance.
fn child_code(child: i32, guess: i64) -> u64 {
    if child == -1 { 0 } else { zigzag(i64::from(child) - guess) + 1 }
}

/// `left` and `right` packed (both arrays' lengths first), each varint handed to `emit` as
/// each mode's guess for `left` packs it: indexed by the mode, `LEFT_FROM_INDEX` and
/// `LEFT_FROM_HIGHEST`.
fn children(left: &[i32], right: &[i32], mut emit: impl FnMut([u64; 2])) {
    emit([left.len() as u64; 2]);
    emit([right.len() as u64; 2]);
    let mut highest = 0i64;
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).copied();
        if let Some(l) = l {
            emit([LEFT_FROM_INDEX, LEFT_FROM_HIGHEST].map(|mode| child_code(l, left_guess(mode, i, highest))));
            highest = highest.max(i64::from(l));
        }
        if let Some(r) = right.get(i).copied() {
            emit([child_code(r, right_guess(l, i)); 2]);
            highest = highest.max(i64::from(r));
        }
    }
}

/// The guess a node's right child is packed against: one past its left child, if it has one.
fn right_guess(left: Option<i32>, index: usize) -> i64 {
    match left {
        Some(l) if l != -1 => i64::from(l) + 1,
        _ => index as i64 + 1,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.at).ok_or_else(|| Error::internal("packed tree: truncated"))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| Error::internal("packed tree: truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::internal("packed tree: varint too long"))
    }

    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.varint()?).map_err(|_| Error::internal("packed tree: length out of range"))
    }

    fn bits(&mut self, n: usize, n_bits: u32) -> Result<Vec<u8>> {
        let per_byte = (8 / n_bits) as usize;
        let bytes = self.take(n.div_ceil(per_byte))?;
        let mask = (1u8 << n_bits) - 1;
        Ok((0..n).map(|i| (bytes[i / per_byte] >> ((i % per_byte) as u32 * n_bits)) & mask).collect())
    }

    fn floats(&mut self) -> Result<Vec<f64>> {
        let n = self.len()?;
        let tags = self.bits(n, 2)?;
        tags.into_iter()
            .map(|tag| match tag {
                TAG_ZERO => Ok(0.0),
                TAG_F32 => Ok(f64::from(f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))),
                TAG_F64 => Ok(f64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"))),
                _ => Err(Error::internal("packed tree: bad float tag")),
            })
            .collect()
    }

    fn child(&mut self, guess: i64) -> Result<i32> {
        match self.varint()? {
            0 => Ok(-1),
            v => unzigzag(v - 1)
                .checked_add(guess)
                .and_then(|c| i32::try_from(c).ok())
                .ok_or_else(|| Error::internal("packed tree: child out of range")),
        }
    }

    fn children(&mut self, mode: u8) -> Result<(Vec<i32>, Vec<i32>)> {
        if mode != LEFT_FROM_INDEX && mode != LEFT_FROM_HIGHEST {
            return Err(Error::internal("packed tree: bad children mode"));
        }
        let (n_left, n_right) = (self.len()?, self.len()?);
        let (mut left, mut right) = (Vec::with_capacity(n_left), Vec::with_capacity(n_right));
        let mut highest = 0i64;
        for i in 0..n_left.max(n_right) {
            let l = if i < n_left {
                let l = self.child(left_guess(mode, i, highest))?;
                highest = highest.max(i64::from(l));
                left.push(l);
                Some(l)
            } else {
                None
            };
            if i < n_right {
                let r = self.child(right_guess(l, i))?;
                highest = highest.max(i64::from(r));
                right.push(r);
            }
        }
        Ok((left, right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::SetGoes;
    use proptest::prelude::*;

    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    fn assert_round_trip(trees: Vec<TreeSpec>) {
        let packed = PackedTrees::pack(&trees);
        let back = packed.unpack().expect("unpacks");
        assert_eq!(back.len(), trees.len());
        for (a, b) in trees.iter().zip(&back) {
            assert!(same_bits(&a.threshold, &b.threshold), "thresholds {:?} vs {:?}", a.threshold, b.threshold);
            assert!(same_bits(&a.value, &b.value), "values {:?} vs {:?}", a.value, b.value);
            let strip = |t: &TreeSpec| TreeSpec { threshold: Vec::new(), value: Vec::new(), ..t.clone() };
            assert_eq!(strip(a), strip(b));
        }
    }

    fn node_float() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(f64::from_bits(0x7ff8_0000_dead_beef)),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::MIN_POSITIVE / 4.0),
            any::<f32>().prop_map(f64::from),
            any::<f64>(),
        ]
    }

    fn child() -> impl Strategy<Value = i32> {
        prop_oneof![Just(-1), 0..600i32, any::<i32>()]
    }

    prop_compose! {
        fn tree()(n in 0..40usize, extra in 0..3usize)(
            target in any::<u32>(),
            leaf_width in 1..4u32,
            feature in prop::collection::vec(prop_oneof![Just(-1), 0..60i32, any::<i32>()], n),
            threshold in prop::collection::vec(node_float(), n),
            left in prop::collection::vec(child(), n),
            // Lengths may disagree: the packing keeps whatever it is given (validation is
            // not its job).
            right in prop::collection::vec(child(), n + extra),
            default_left in prop::collection::vec(any::<bool>(), 0..=n),
            missing in prop::collection::vec(prop_oneof![Just(Missing::Nan), Just(Missing::Zero), Just(Missing::AsZero)], 0..=n),
            value in prop::collection::vec(node_float(), 0..3 * n + 1),
        ) -> TreeSpec {
            let category_splits = if feature.len() % 5 == 1 { vec![CategorySplit { node: 0, categories: vec![1, 7], goes: SetGoes::Right }] } else { Vec::new() };
            TreeSpec { target, leaf_width, feature, threshold, left, right, default_left, missing, category_splits, value }
        }
    }

    proptest! {
        #[test]
        fn any_trees_round_trip_bit_for_bit(trees in prop::collection::vec(tree(), 0..6)) {
            assert_round_trip(trees);
        }
    }

    /// A full breadth-first tree of depth 9 (XGBoost's layout) and the same shape depth-first
    /// (scikit-learn's): each packs its children in about a byte a child, and both round-trip.
    #[test]
    fn usual_layouts_pack_small() {
        let depth = 9;
        let n = (1usize << (depth + 1)) - 1;
        let splits = (1usize << depth) - 1;
        let mut bfs = TreeSpec {
            target: 0,
            leaf_width: 1,
            feature: (0..n).map(|i| if i < splits { (i % 50) as i32 } else { -1 }).collect(),
            threshold: (0..n).map(|i| if i < splits { f64::from(i as f32 * 0.5) } else { 0.0 }).collect(),
            left: (0..n).map(|i| if i < splits { (2 * i + 1) as i32 } else { -1 }).collect(),
            right: (0..n).map(|i| if i < splits { (2 * i + 2) as i32 } else { -1 }).collect(),
            default_left: (0..n).map(|i| i % 3 == 0).collect(),
            missing: Vec::new(),
            category_splits: Vec::new(),
            value: (0..n).map(|i| if i < splits { 0.0 } else { 1.0 / (i as f64) }).collect(),
        };
        // Depth-first preorder numbering of the same shape.
        let mut dfs = bfs.clone();
        let mut order = vec![0usize; n];
        fn number(node: usize, splits: usize, next: &mut usize, order: &mut [usize]) {
            order[node] = *next;
            *next += 1;
            if node < splits {
                number(2 * node + 1, splits, next, order);
                number(2 * node + 2, splits, next, order);
            }
        }
        number(0, splits, &mut 0, &mut order);
        for old in 0..n {
            let new = order[old];
            dfs.feature[new] = bfs.feature[old];
            dfs.threshold[new] = bfs.threshold[old];
            dfs.default_left[new] = bfs.default_left[old];
            dfs.value[new] = bfs.value[old];
            dfs.left[new] = if old < splits { order[2 * old + 1] as i32 } else { -1 };
            dfs.right[new] = if old < splits { order[2 * old + 2] as i32 } else { -1 };
        }
        for tree in [&mut bfs, &mut dfs] {
            let only_children = TreeSpec { feature: Vec::new(), threshold: Vec::new(), default_left: Vec::new(), value: Vec::new(), ..tree.clone() };
            let packed = PackedTrees::pack(&[only_children]).packed_bytes();
            // Every child is one byte but a depth-first right child (two); 5 length and mode bytes.
            assert!(packed <= 2 * n + splits + 8, "{packed} bytes for {n} nodes");
        }
        assert_round_trip(vec![bfs, dfs]);
    }
}
