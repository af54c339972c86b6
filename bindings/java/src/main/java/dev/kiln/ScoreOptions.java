package dev.kiln;

/**
 * Per-call scoring options. Immutable; {@link #DEFAULT} scores on the calling thread and returns
 * reasons and the report.
 *
 * <p>Why one thread by default: inside a JVM the host usually parallelises already (a servlet
 * pool, a Spark executor running one task per core). If every call also fanned out over all
 * cores, N host threads would each wake N kiln threads and the machine would run N x N threads
 * fighting for N cores. Scoring on the caller's thread keeps kiln proportional to the host's
 * own parallelism; ask for more with {@link #withThreads(int)} when one thread scores one large
 * batch.
 */
public final class ScoreOptions {
    public static final ScoreOptions DEFAULT = new ScoreOptions(1, true, true);

    private final int threads;
    private final boolean reasons;
    private final boolean report;

    private ScoreOptions(int threads, boolean reasons, boolean report) {
        this.threads = threads;
        this.reasons = reasons;
        this.report = report;
    }

    /** Threads kiln may use for this call; 0 = all cores. Small batches never fan out. */
    public ScoreOptions withThreads(int threads) {
        if (threads < 0) {
            throw new KilnException(KilnStatus.INVALID_ARGUMENT, "threads must be >= 0 (0 = all cores), got " + threads);
        }
        return new ScoreOptions(threads, reasons, report);
    }

    /** Whether to return a reason per flagged row ({@link ScoreResult#reason}). */
    public ScoreOptions withReasons(boolean reasons) {
        return new ScoreOptions(threads, reasons, report);
    }

    /** Whether to return the batch report JSON ({@link ScoreResult#reportJson}). */
    public ScoreOptions withReport(boolean report) {
        return new ScoreOptions(threads, reasons, report);
    }

    public int threads() {
        return threads;
    }

    public boolean reasons() {
        return reasons;
    }

    public boolean report() {
        return report;
    }
}
