//! Execution: the bounded thread pools, row blocking and deterministic partitioning.
//!
//! Rows are cut into fixed blocks (of the plan's `block_rows`) whatever the thread count, and
//! each row's arithmetic depends only on that row, so results are bit-identical for any thread
//! count and any split of the same rows into batches. A call with few rows, or with one thread,
//! runs on the caller's thread and never touches a pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, Result};

/// Compile the kernel function it wraps twice, for baseline x86-64 and for x86-64-v3 (AVX2 with
/// FMA, BMI and the SSE4 set), the running CPU choosing one once at run time (the
/// `multiversion` crate): one `libkiln.so` runs on any x86-64 CPU, and the CPUs most hosts have
/// get the wider vectors. Scores are the same bits from either version: each lane does the
/// same IEEE operations, and Rust never fuses a multiply and an add on its own. The one list of
/// targets for every kernel (scoring, transforms, input checks).
macro_rules! for_each_cpu {
    ($kernel:item) => {
        #[multiversion::multiversion(targets("x86_64+avx+avx2+fma+bmi1+bmi2+lzcnt+popcnt+sse3+ssse3+sse4.1+sse4.2"))]
        $kernel
    };
}
pub(crate) use for_each_cpu;

/// The most threads one call may ask for: more only adds contention.
pub const MAX_THREADS: usize = 256;

/// Threads for a call: `0` means every core the process may use.
pub fn resolve_threads(requested: usize) -> usize {
    // available_parallelism() reads cgroup files on Linux: tens of microseconds, too much for a
    // one-row call, so it is asked once per process.
    static CORES: OnceLock<usize> = OnceLock::new();
    let n = if requested == 0 { *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) } else { requested };
    n.clamp(1, MAX_THREADS)
}

struct Pools {
    /// Process that built the pools: after a fork() the child has none of their threads.
    pid: u32,
    by_size: HashMap<usize, Arc<ThreadPool>>,
}

/// A pool of exactly `n` worker threads, built once per size and process and then shared.
/// Workers sleep when idle (rayon parks them), so an idle kiln costs a host nothing.
pub fn pool(n: usize) -> Result<Arc<ThreadPool>> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| Mutex::new(Pools { pid: std::process::id(), by_size: HashMap::new() }));
    let mut guard = pools.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if guard.pid != pid {
        // Forked child: the parent's worker threads do not exist here. Forget (and leak) the
        // parent's pools rather than joining threads that will never answer.
        let stale = std::mem::take(&mut guard.by_size);
        std::mem::forget(stale);
        guard.pid = pid;
    }
    if let Some(p) = guard.by_size.get(&n) {
        return Ok(p.clone());
    }
    let p = Arc::new(
        ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("kiln-{i}"))
            .build()
            .map_err(|e| Error::internal(format!("starting {n} scoring threads: {e}")))?,
    );
    guard.by_size.insert(n, p.clone());
    Ok(p)
}

/// Whether a call over `n_rows` with `threads` threads should fan out at all.
pub fn should_fan_out(n_rows: usize, threads: usize, block_rows: usize) -> bool {
    threads > 1 && n_rows > 4 * block_rows
}
