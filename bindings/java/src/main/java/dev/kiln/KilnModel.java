package dev.kiln;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loaded kiln model: immutable, validated once at load, and safe to score from any number of
 * threads at once (no lock is taken on the scoring path).
 *
 * <p>Close it when done ({@code try (KilnModel m = KilnModel.load(path)) {...}}); a model that
 * becomes unreachable without being closed is freed by a {@link Cleaner}. Closing while other
 * threads are still scoring is safe: the native model is freed when the last of those calls
 * returns, and calls started after {@code close()} throw.
 */
public final class KilnModel implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * Owns the native handle. Kept apart from {@link KilnModel} so the cleaner action does not
     * reach the model object (which would keep it alive forever).
     */
    private static final class Handle implements Runnable {
        /** Sign bit: closed. Low bits: calls in flight. */
        private static final int CLOSED = Integer.MIN_VALUE;

        private final long ptr;
        private final AtomicInteger state = new AtomicInteger();

        Handle(long ptr) {
            this.ptr = ptr;
        }

        long acquire() {
            for (;;) {
                int s = state.get();
                if (s < 0) {
                    throw new KilnException(KilnStatus.NULL_ARGUMENT,
                            "this KilnModel was closed; load the artifact again to keep scoring");
                }
                if (state.compareAndSet(s, s + 1)) {
                    return ptr;
                }
            }
        }

        void release() {
            if (state.decrementAndGet() == CLOSED) {
                KilnNative.modelFree(ptr);
            }
        }

        /** close(), also the cleaner action: frees now, or lets the last call in flight free. */
        @Override
        public void run() {
            for (;;) {
                int s = state.get();
                if (s < 0) {
                    return;
                }
                if (state.compareAndSet(s, s | CLOSED)) {
                    if (s == 0) {
                        KilnNative.modelFree(ptr);
                    }
                    return;
                }
            }
        }
    }

    /** One model input: its name and logical type. */
    public record Input(String name, ColumnType type) {}

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final String fingerprint;
    private final List<String> outputNames;
    private final List<Input> inputs;
    private final String infoJson;
    private final Map<Integer, String> reasonSources = new ConcurrentHashMap<>();

    private KilnModel(long ptr) {
        handle = new Handle(ptr);
        cleanable = CLEANER.register(this, handle);
        try {
            // Everything a model describes about itself is read once: the accessors then cost
            // nothing and never cross into native code.
            byte[][] s = new byte[1][];
            long[] n = new long[1];
            KilnNative.checkCall(KilnNative.modelFingerprint(ptr, s));
            fingerprint = KilnNative.utf8(s[0]);
            KilnNative.checkCall(KilnNative.modelNumOutputs(ptr, n));
            List<String> outs = new ArrayList<>();
            for (long i = 0; i < n[0]; i++) {
                KilnNative.checkCall(KilnNative.modelOutputName(ptr, i, s));
                outs.add(KilnNative.utf8(s[0]));
            }
            outputNames = Collections.unmodifiableList(outs);
            KilnNative.checkCall(KilnNative.modelNumInputs(ptr, n));
            List<Input> ins = new ArrayList<>();
            int[] type = new int[1];
            for (long i = 0; i < n[0]; i++) {
                KilnNative.checkCall(KilnNative.modelInput(ptr, i, s, type));
                ins.add(new Input(KilnNative.utf8(s[0]), ColumnType.of(type[0])));
            }
            inputs = Collections.unmodifiableList(ins);
            KilnNative.checkCall(KilnNative.modelInfoJson(ptr, s));
            infoJson = KilnNative.utf8(s[0]);
        } catch (RuntimeException | Error e) {
            cleanable.clean();
            throw e;
        }
    }

    /** Loads and validates an artifact file. */
    public static KilnModel load(Path path) {
        return load(path, null);
    }

    /**
     * Loads and validates an artifact file; {@code expectFingerprint} (nullable), e.g.
     * {@code "sha256:..."}, pins the exact content and fails with
     * {@link KilnStatus#FINGERPRINT_MISMATCH} if the file holds anything else.
     */
    public static KilnModel load(Path path, String expectFingerprint) {
        if (path == null) {
            throw new KilnException(KilnStatus.NULL_ARGUMENT, "path is null");
        }
        KilnNative.ensureLoaded();
        long[] out = new long[1];
        KilnNative.checkCall(KilnNative.modelLoad(KilnNative.cString(path.toString()),
                KilnNative.cString(expectFingerprint), out));
        return new KilnModel(out[0]);
    }

    /** Loads and validates an artifact from its bytes. */
    public static KilnModel load(byte[] artifact) {
        return load(artifact, null);
    }

    /** Loads and validates an artifact from its bytes, pinned to {@code expectFingerprint} (nullable). */
    public static KilnModel load(byte[] artifact, String expectFingerprint) {
        if (artifact == null) {
            throw new KilnException(KilnStatus.NULL_ARGUMENT, "artifact bytes are null");
        }
        KilnNative.ensureLoaded();
        long[] out = new long[1];
        KilnNative.checkCall(KilnNative.modelLoadBytes(artifact, KilnNative.cString(expectFingerprint), out));
        return new KilnModel(out[0]);
    }

    /** The native library's version, e.g. {@code "0.1.0"}. */
    public static String libraryVersion() {
        KilnNative.ensureLoaded();
        return KilnNative.utf8(KilnNative.version());
    }

    /** The C ABI version of the loaded native library. */
    public static int abiVersion() {
        KilnNative.ensureLoaded();
        return KilnNative.abiVersion();
    }

    /** The content fingerprint, {@code "sha256:<hex>"}. */
    public String fingerprint() {
        checkOpen();
        return fingerprint;
    }

    public List<String> outputNames() {
        checkOpen();
        return outputNames;
    }

    /** The columns the model reads, with their logical types. */
    public List<Input> inputs() {
        checkOpen();
        return inputs;
    }

    public List<String> inputNames() {
        List<String> names = new ArrayList<>();
        for (Input in : inputs()) {
            names.add(in.name());
        }
        return names;
    }

    /** Schema, pipeline, model summary, outputs and provenance as JSON. */
    public String infoJson() {
        checkOpen();
        return infoJson;
    }

    /** Scores a batch on the calling thread (see {@link ScoreOptions} for why one thread). */
    public ScoreResult score(Batch batch) {
        return score(batch, ScoreOptions.DEFAULT);
    }

    public ScoreResult score(Batch batch, ScoreOptions options) {
        if (batch == null) {
            throw new KilnException(KilnStatus.NULL_ARGUMENT, "batch is null");
        }
        if (options == null) {
            options = ScoreOptions.DEFAULT;
        }
        Outputs o = new Outputs(this, batch.rows, options);
        long ptr = handle.acquire();
        try {
            KilnNative.checkCall(KilnNative.scoreColumns(ptr, batch.rows, batch.names, batch.kinds, batch.data,
                    batch.dataOffsets, batch.dataLens, batch.offsets, batch.offsetsOffsets, batch.masks,
                    batch.maskOffsets, options.threads(), o.outs, o.status, o.reason, o.report));
            return o.result(ptr);
        } finally {
            handle.release();
        }
    }

    /** Scores an exported Arrow C Data Interface record batch; used by {@link KilnArrow}. */
    ScoreResult scoreArrow(long arrayAddress, long schemaAddress, long rows, ScoreOptions options) {
        Outputs o = new Outputs(this, rows, options == null ? ScoreOptions.DEFAULT : options);
        long ptr = handle.acquire();
        try {
            KilnNative.checkCall(KilnNative.scoreArrow(ptr, arrayAddress, schemaAddress, rows, o.threads, o.outs,
                    o.status, o.reason, o.report));
            return o.result(ptr);
        } finally {
            handle.release();
        }
    }

    /** Frees the native model (once; later calls do nothing). */
    @Override
    public void close() {
        cleanable.clean();
    }

    private void checkOpen() {
        handle.acquire();
        handle.release();
    }

    /** Caller-allocated output arrays for one scoring call. */
    private static final class Outputs {
        final KilnModel model;
        final int threads;
        final double[][] outs;
        final int[] status;
        final int[] reason;
        final byte[][] report;

        Outputs(KilnModel model, long rows, ScoreOptions options) {
            if (rows > Integer.MAX_VALUE - 8) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, "a batch of " + rows
                        + " rows does not fit Java arrays; split it");
            }
            int n = (int) rows;
            this.model = model;
            this.threads = options.threads();
            outs = new double[model.outputNames.size()][n];
            status = new int[n];
            reason = options.reasons() ? new int[n] : null;
            report = options.report() ? new byte[1][] : null;
        }

        /** Builds the result while the handle is still held (reason sources need the model). */
        ScoreResult result(long ptr) {
            Map<Integer, String> sources = null;
            if (reason != null) {
                for (int i = 0; i < status.length; i++) {
                    int id = reason[i];
                    if (status[i] != 0 && id >= 0) {
                        if (sources == null) {
                            sources = new HashMap<>();
                        }
                        if (!sources.containsKey(id)) {
                            sources.put(id, model.reasonSource(ptr, id));
                        }
                    }
                }
            }
            return new ScoreResult(model.outputNames, outs, status, reason, sources,
                    report == null ? null : KilnNative.utf8(report[0]));
        }
    }

    private String reasonSource(long ptr, int id) {
        String cached = reasonSources.get(id);
        if (cached != null) {
            return cached;
        }
        byte[][] s = new byte[1][];
        KilnNative.checkCall(KilnNative.modelReasonSource(ptr, id, s));
        String source = KilnNative.utf8(s[0]);
        reasonSources.put(id, source);
        return source;
    }
}
