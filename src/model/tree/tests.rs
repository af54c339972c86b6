#![expect(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "the tests check the walk's `!(x <= t)`, which NaN (incomparable) satisfies by design"
)]

use super::node::Step;
use super::value::{numeric_split, SplitValue};
use super::*;
use crate::artifact::TreeSpec;

/// A leaf's threshold keeps its offset, or its value, and the NaN column's value steps
/// past every such threshold (to `child + 1`, the leaf itself).
fn leaf_thresholds<T: SplitValue>() -> Vec<T> {
    let offsets = [0, 1, 2, 12345, 1 << 22, u32::MAX].map(|offset| {
        let t = T::leaf(offset);
        assert_eq!(t.leaf_offset(), offset as usize);
        t
    });
    let values = [0.0, -0.0, 1.5, -1e-40, 1e-300, f64::MAX, f64::MIN, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let inline = values.iter().flat_map(|&v| [T::inline(v, true), T::inline(v, false)]);
    let all: Vec<T> = offsets.into_iter().chain(inline).collect();
    for &t in &all {
        assert!(!(T::NAN <= t), "NaN <= leaf {t:?}");
    }
    all
}

#[test]
fn leaf_thresholds_hold_offsets_and_values() {
    assert_eq!(leaf_thresholds::<f32>().len(), 26);
    assert_eq!(leaf_thresholds::<f64>().len(), 26);
    // Inline values read back as the model accumulates them, bit for bit.
    for v in [0.1, -0.0, 1e-40, 3.5e38, -7.25, f64::INFINITY] {
        assert_eq!(f32::inline(v, true).value32().to_bits(), (v as f32).to_bits(), "{v}");
        assert_eq!(f64::inline(v, true).value32().to_bits(), (v as f32).to_bits(), "{v}");
        assert_eq!(f64::inline(v, false).value64().to_bits(), v.to_bits(), "{v}");
    }
    assert!(f64::inline(f64::NAN, false).value64().is_nan() && f32::inline(f64::NAN, true).value32().is_nan());
}

/// A complete tree of `depth` levels of splits (feature = node index mod 2), every node's
/// value its own index.
fn complete_tree(depth: u32) -> TreeSpec {
    let n = (1usize << (depth + 1)) - 1;
    let split = |i: usize| 2 * i + 2 < n;
    TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: (0..n).map(|i| if split(i) { (i % 2) as i32 } else { -1 }).collect(),
        threshold: (0..n).map(|i| i as f64 * 0.25).collect(),
        left: (0..n).map(|i| if split(i) { (2 * i + 1) as i32 } else { -1 }).collect(),
        right: (0..n).map(|i| if split(i) { (2 * i + 2) as i32 } else { -1 }).collect(),
        default_left: (0..n).map(|i| i % 3 == 0).collect(),
        missing: vec![],
        category_splits: vec![],
        value: (0..n).map(|i| i as f64).collect(),
    }
}

/// Every walk of `depth` steps from `at` (both ways at splits, a leaf stepping to itself):
/// calls `reach(leaf, nodes read on the way)`.
fn every_walk<T: SplitValue>(nodes: &[NumericNode<T>], at: u32, steps: u32, path: &mut Vec<u32>, reach: &mut impl FnMut(u32, &[u32])) {
    path.push(at);
    let node = nodes[at as usize];
    if steps == 0 {
        reach(at, path);
    } else if node.is_leaf() {
        every_walk(nodes, node.child + 1, steps - 1, path, reach);
    } else {
        for second in 0..2 {
            every_walk(nodes, node.child + second, steps - 1, path, reach);
        }
    }
    path.pop();
}

#[test]
fn float32_trees_lie_in_cache_line_blocks() {
    // After three nodes of an earlier tree, a complete depth-8 tree starts on a line, every
    // one of its 256 walks reads at most 4 lines of 8 nodes (7 breadth-first), reaches its own leaf
    // with that leaf's value, and the blocks' fillers add under an eighth to the nodes.
    let tree = complete_tree(8);
    let filler = NumericNode { threshold: 0.0f32, column: 0, child: 0 };
    let mut nodes = vec![filler; 3];
    let mut values = Vec::new();
    let Some(Layout::Numeric { root, depth, .. }) = lay_numeric::<f32>(&tree, &mut nodes, Leaves { values: &mut values, shared: None }, &[0, 1], 2, false, None) else { unreachable!() };
    assert_eq!((root % LINE_NODES as u32, depth), (0, 8));
    assert!(nodes.len() - root as usize <= 511 + 511 / 8, "{} nodes", nodes.len() - root as usize);
    let (mut leaves, mut lines_read) = (Vec::new(), [0; 10]);
    every_walk(&nodes, root, depth, &mut Vec::new(), &mut |leaf, path| {
        let mut lines: Vec<u32> = path.iter().map(|&at| at / LINE_NODES as u32).collect();
        lines.dedup();
        lines_read[lines.len()] += 1;
        leaves.push(values[nodes[leaf as usize].threshold.leaf_offset()]);
    });
    leaves.sort_by(f64::total_cmp);
    assert_eq!(leaves, (255..511).map(f64::from).collect::<Vec<_>>());
    // A block's spare pair (a grandchild pair) saves some walks a line.
    assert_eq!(lines_read[..3], [0; 3]);
    assert_eq!(lines_read[5..], [0; 5]);
    assert!(lines_read[3] > 0, "{lines_read:?}");
    // Float64 nodes stay breadth-first: no fillers, children after all of a level.
    let (mut nodes, mut values) = (Vec::new(), Vec::new());
    let Some(Layout::Numeric { root, .. }) = lay_numeric::<f64>(&tree, &mut nodes, Leaves { values: &mut values, shared: None }, &[0, 1], 2, false, None) else { unreachable!() };
    assert_eq!((root, nodes.len(), nodes[0].child, nodes[1].child), (0, 511, 1, 3));
}

/// A spine of `depth` splits, each with a leaf on one side.
fn spine_tree(depth: u32) -> TreeSpec {
    let n = 2 * depth as usize + 1;
    let split = |i: usize| i % 2 == 0 && i + 1 < n;
    TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: (0..n).map(|i| if split(i) { 0 } else { -1 }).collect(),
        threshold: vec![0.5; n],
        left: (0..n).map(|i| if split(i) { i as i32 + 1 } else { -1 }).collect(),
        right: (0..n).map(|i| if split(i) { i as i32 + 2 } else { -1 }).collect(),
        default_left: vec![],
        missing: vec![],
        category_splits: vec![],
        value: vec![0.0; n],
    }
}

#[test]
fn only_deep_leaf_wise_trees_refill() {
    let refills = |tree: &TreeSpec| {
        let Some(Layout::Numeric { refill, .. }) = lay_numeric::<f64>(tree, &mut Vec::new(), Leaves { values: &mut Vec::new(), shared: None }, &[0, 1], 2, false, None) else { unreachable!() };
        refill
    };
    // A spine's leaves lie half as deep as its deepest on average; a complete tree's all
    // at its depth; trees of depth 8 or less walk exactly their depth anyway.
    assert!(refills(&spine_tree(20)) && refills(&spine_tree(9)));
    assert!(!refills(&spine_tree(8)) && !refills(&complete_tree(12)) && !refills(&complete_tree(8)));
}

/// An ensemble of `trees` over two features, summed in `precision`.
#[test]
fn window_children_leave_room_for_the_second_child() {
    // One tree from node 0: its window starts a node before, so index = node + 1. Walks
    // read positions as 16 bits (`Step::index`), so the second child's index, the first
    // child's plus one, must fit 16 bits: the first child at most 65,534.
    let node = |child: u32| NumericNode { threshold: 0.5f32, column: 0, child };
    let fits = window_nodes(&[node(1), node(65_533)], &[(0, u32::MAX)]).expect("first child at 65,534");
    assert_eq!(fits[1].next(0, 1), 65_535);
    assert!(window_nodes(&[node(1), node(65_534)], &[(0, u32::MAX)]).is_none(), "first child at 65,535");
}

#[test]
fn single_targets_take_inline_leaves_where_the_node_holds_the_value() {
    let spec = |input: Precision, acc: Precision, width: u32, n_targets: usize| TreeEnsembleSpec {
        features: vec!["a".into(), "b".into()],
        n_targets,
        base_score: vec![],
        aggregate: Aggregate::Sum,
        decision: Decision::Less,
        input_precision: input,
        accumulate: acc,
        transform: OutputTransform::Identity,
        trees: vec![TreeSpec { leaf_width: width, value: complete_tree(3).value.iter().flat_map(|&v| vec![v; width as usize]).collect(), ..complete_tree(3) }],
    };
    let (f32_, f64_) = (Precision::Float32, Precision::Float64);
    let inline = |s: TreeEnsembleSpec| TreeEnsemble::new(&s, &[0, 1]).inline_leaves;
    assert!(inline(spec(f32_, f32_, 1, 1)) && inline(spec(f64_, f64_, 1, 1)) && inline(spec(f64_, f32_, 1, 1)));
    // A float32 node cannot hold a float64 sum's value; several values need an offset.
    assert!(!inline(spec(f32_, f64_, 1, 1)) && !inline(spec(f64_, f64_, 2, 2)));
    // An inline leaf's threshold is its value.
    let m = TreeEnsemble::new(&spec(f64_, f32_, 1, 1), &[0, 1]);
    let NumericNodes::F64Compact(nodes) = &m.numeric else { panic!("compact float64 nodes") };
    let mut values: Vec<f64> = nodes.iter().filter(|n| n.is_leaf()).map(|n| n.threshold()).collect();
    values.retain(|&v| (7.0..15.0).contains(&v));
    values.sort_by(f64::total_cmp);
    assert_eq!(values, (7..15).map(f64::from).collect::<Vec<_>>());
}

fn ensemble(trees: Vec<TreeSpec>, precision: Precision) -> TreeEnsemble {
    let spec = TreeEnsembleSpec {
        features: vec!["a".into(), "b".into()],
        n_targets: 1,
        base_score: vec![],
        aggregate: Aggregate::Sum,
        decision: Decision::Less,
        input_precision: precision,
        accumulate: precision,
        transform: OutputTransform::Identity,
        trees,
    };
    TreeEnsemble::new(&spec, &[0, 1])
}

/// Every walk of `depth` steps through window nodes from `at` (a window index), as
/// [`every_walk`]: calls `reach(leaf's window index)`.
fn every_window_walk<T: SplitValue>(window: &[WindowNode<T>], at: u32, steps: u32, reach: &mut impl FnMut(u32)) {
    if steps == 0 {
        return reach(at);
    }
    let node = window[at as usize];
    let seconds = if node.is_leaf() { 1..2 } else { 0..2 };
    for second in seconds {
        every_window_walk(window, node.next(at, second), steps - 1, reach);
    }
}

/// Models of at least a window's nodes take window nodes: every walk of each tree, read
/// through its run's window, ends on one of that tree's own leaves (a leaf-only tree's
/// too). Smaller models keep the offsets.
#[test]
fn large_models_take_window_nodes() {
    let leaf = TreeSpec { feature: vec![-1], threshold: vec![0.0], left: vec![-1], right: vec![-1], default_left: vec![false], value: vec![7.0], ..complete_tree(0) };
    let mut trees = vec![leaf.clone()];
    trees.extend((0..139).map(|t| complete_tree(if t % 40 == 39 { 3 } else { 8 })));
    trees.insert(17, leaf);
    let m = ensemble(trees.clone(), Precision::Float32);
    let NumericNodes::F32Window(nodes) = &m.numeric else { panic!("{} trees of depth 8: window nodes", trees.len()) };
    assert!(!m.masked_walk);
    let mut leaves_seen = 0;
    for (t, tree) in m.trees.iter().enumerate() {
        let Layout::Numeric { root, depth, window, .. } = tree.layout else { panic!("numeric") };
        let next_root = m.trees.get(t + 1).map_or(nodes.len() as u32, |n| if let Layout::Numeric { root, .. } = n.layout { root } else { 0 });
        let view = &nodes[window as usize..][..NODE_WINDOW];
        every_window_walk(view, root - window, depth, &mut |leaf| {
            let at = leaf + window;
            assert!((root..next_root).contains(&at), "tree {t}: leaf {at} outside {root}..{next_root}");
            assert!(nodes[at as usize].is_leaf(), "tree {t}: walk ends on a split");
            leaves_seen += 1;
        });
    }
    assert_eq!(leaves_seen, 2 + 136 * 256 + 3 * 8);
    assert!(matches!(ensemble(trees.clone(), Precision::Float64).numeric, NumericNodes::F64Window(_)));
    assert!(matches!(ensemble(trees[..40].to_vec(), Precision::Float32).numeric, NumericNodes::F32Compact(_)), "too small");
    // Deeper trees take them too, walked unmasked; too few nodes keep the masked offsets.
    let mut deep = trees;
    deep.push(complete_tree(9));
    let m = ensemble(deep.clone(), Precision::Float32);
    assert!(matches!(m.numeric, NumericNodes::F32Window(_)) && !m.masked_walk);
    let m = ensemble(deep[100..].to_vec(), Precision::Float32);
    assert!(matches!(m.numeric, NumericNodes::F32Compact(_)) && m.masked_walk, "too small");
}

/// Compact float32 nodes are moved to start on a cache line, a masked walk's array is a
/// power of two long, and a window walk's has a filler before its first node and reaches
/// the end of its last tree's window; the trees' roots move with them.
#[test]
fn settled_nodes_start_on_a_cache_line() {
    for (len, pad, window_end) in [(5usize, false, 0), (1000, true, 0), (1, true, 0), (5, false, 900), (1000, false, 900), (0, false, 1)] {
        let mut nodes: Vec<CompactNode<f32>> = (0..len).map(|i| CompactNode { threshold: i as f32, column: 0, child: 0 }).collect();
        let shift = pad_nodes(&mut nodes, pad, true, window_end, CompactNode { threshold: -1.0, column: 0, child: 0 }) as usize;
        assert_eq!(nodes[shift..].as_ptr().align_offset(64), 0);
        if len > 0 {
            assert_eq!(nodes[shift + len - 1].threshold(), (len - 1) as f32);
        }
        assert!(nodes[..shift].iter().all(|n| n.threshold() == -1.0));
        assert!(nodes[shift + len..].iter().all(|n| n.threshold() == -1.0));
        if pad {
            assert!(nodes.len().is_power_of_two() && nodes.len() >= len + shift);
        } else if window_end > 0 {
            assert!(shift > 0);
            assert_eq!(nodes.len(), shift + len.max(window_end));
        } else {
            assert_eq!(nodes.len(), len + shift);
        }
    }
}

/// A numeric split's single `!(v <= t')` test must make the model's decision for every f32
/// input; the inputs that could disagree are the f32 neighbours of the threshold.
#[test]
fn numeric_splits_decide_like_the_model() {
    let mut seeds = vec![0.0, -0.0, 1.0, 0.1, -0.1, 1e-40, -1e-40, 1e-46, 3.4028235677973366e38, 3.5e38, -3.5e38, 1e300, f64::INFINITY, f64::NEG_INFINITY];
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seeds.push(f64::from_bits(x) % 1e6);
    }
    for &t in seeds.iter().filter(|t| !t.is_nan()) {
        let near = t as f32;
        let up = |v: f32| if v == f32::INFINITY { v } else { SplitValue::next_up(v) };
        let down = |v: f32| -up(-v);
        let probes = [near, up(near), down(near), up(up(near)), down(down(near)), f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, f32::NAN];
        for less in [true, false] {
            for default_left in [true, false] {
                let Some((t32, negated)) = numeric_split::<f32>(t, less, default_left) else {
                    assert!(less != default_left, "only a `<` test whose NaN goes its other way can lack a `<=` form");
                    continue;
                };
                for &v in &probes {
                    let x = f64::from(v);
                    let goes_left = if x.is_nan() { default_left } else if less { x < t } else { x <= t };
                    let second = !((if negated { -v } else { v }) <= t32);
                    // The second child is the right one, or the left one when negated.
                    assert_eq!(goes_left, second == negated, "threshold {t:e} -> {t32:e} (negated {negated}), input {v:e}, less {less}");
                }
            }
        }
    }
}
