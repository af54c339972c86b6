package dev.kiln;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Scoring from the JVM: single-row latency (the cost of one crossing: building a batch, pinning,
 * scoring, copying out) and batch throughput through each door, on a generated boosted-tree
 * model (100 trees of depth 6 over 8 float64 features) and on the linear pipeline fixture.
 *
 * <pre>mvn -B -Pjmh test-compile exec:exec -Djmh.args="-f 1 -wi 3 -i 5"</pre>
 * All report average time; the batch benchmarks count each row as one operation, so their
 * score is the time per row (its inverse the rows per second).
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ScoringBenchmark {
    static final int FEATURES = 8;
    static final int BATCH_ROWS = 10_000;
    static final String[] NAMES = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"};

    KilnModel forest;
    KilnModel linear;
    Batch oneRow;
    Batch oneRowReused;
    double[][] oneRowColumns;
    Batch batch;
    Batch directBatch;
    Batch linearOneRow;
    Batch linearBatch;
    BufferAllocator allocator;
    VectorSchemaRoot root;
    ScoreOptions lean = ScoreOptions.DEFAULT.withReport(false).withReasons(false);

    /** 100 complete trees of depth 6 with random splits and leaves (fixed seed). */
    static byte[] forestArtifact() {
        SplittableRandom r = new SplittableRandom(42);
        StringBuilder trees = new StringBuilder();
        int internal = 63;
        int nodes = 127;
        for (int t = 0; t < 100; t++) {
            StringBuilder f = new StringBuilder(), th = new StringBuilder(), l = new StringBuilder(),
                    rt = new StringBuilder(), v = new StringBuilder();
            for (int i = 0; i < nodes; i++) {
                String sep = i == 0 ? "" : ",";
                boolean leaf = i >= internal;
                f.append(sep).append(leaf ? -1 : r.nextInt(FEATURES));
                th.append(sep).append(leaf ? 0.0 : r.nextDouble() * 2 - 1);
                l.append(sep).append(leaf ? -1 : 2 * i + 1);
                rt.append(sep).append(leaf ? -1 : 2 * i + 2);
                v.append(sep).append(leaf ? (r.nextDouble() - 0.5) * 0.2 : 0.0);
            }
            trees.append(t == 0 ? "" : ",").append("{\"feature\":[").append(f).append("],\"threshold\":[").append(th)
                    .append("],\"left\":[").append(l).append("],\"right\":[").append(rt).append("],\"value\":[")
                    .append(v).append("]}");
        }
        StringBuilder cols = new StringBuilder();
        StringBuilder feats = new StringBuilder();
        for (int i = 0; i < FEATURES; i++) {
            cols.append(i == 0 ? "" : ",").append("{\"name\":\"").append(NAMES[i]).append("\",\"type\":\"float64\"}");
            feats.append(i == 0 ? "" : ",").append('"').append(NAMES[i]).append('"');
        }
        String json = "{\"format\":\"kiln\",\"format_version\":\"1.0\",\"content\":{\"schema\":{\"columns\":[" + cols
                + "]},\"pipeline\":[],\"model\":{\"kind\":\"tree_ensemble\",\"features\":[" + feats
                + "],\"n_targets\":1,\"aggregate\":\"sum\",\"decision\":\"less\",\"input_precision\":\"float32\","
                + "\"accumulate\":\"float32\",\"transform\":\"sigmoid\",\"trees\":[" + trees
                + "]},\"outputs\":[{\"name\":\"score\"}],\"provenance\":{\"library\":\"kiln\"}}}";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    static double[][] columns(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] c = new double[FEATURES][rows];
        for (double[] col : c) {
            for (int i = 0; i < rows; i++) {
                col[i] = r.nextDouble() * 2 - 1;
            }
        }
        return c;
    }

    @Setup(Level.Trial)
    public void setup() {
        forest = KilnModel.load(forestArtifact());
        linear = KilnModel.load(Fixtures.bytes("linear.kiln"));
        oneRowColumns = columns(1, 1);
        oneRowReused = Batch.builder().addDoubleColumns(NAMES, oneRowColumns).build();
        double[][] cols = columns(BATCH_ROWS, 2);
        batch = Batch.builder().addDoubleColumns(NAMES, cols).build();
        Batch.Builder direct = Batch.builder();
        for (int j = 0; j < FEATURES; j++) {
            ByteBuffer b = ByteBuffer.allocateDirect(8 * BATCH_ROWS).order(ByteOrder.nativeOrder());
            b.asDoubleBuffer().put(cols[j]);
            direct.addBuffer(NAMES[j], PhysicalType.F64, b);
        }
        directBatch = direct.build();
        linearOneRow = new Fixtures.LinearColumns(1, 3).batch();
        linearBatch = new Fixtures.LinearColumns(BATCH_ROWS, 4).batch();
        allocator = new RootAllocator();
        List<FieldVector> vectors = new java.util.ArrayList<>();
        for (int j = 0; j < FEATURES; j++) {
            Float8Vector v = new Float8Vector(NAMES[j], allocator);
            v.allocateNew(BATCH_ROWS);
            for (int i = 0; i < BATCH_ROWS; i++) {
                v.set(i, cols[j][i]);
            }
            v.setValueCount(BATCH_ROWS);
            vectors.add(v);
        }
        root = new VectorSchemaRoot(vectors);
        root.setRowCount(BATCH_ROWS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        root.close();
        allocator.close();
        forest.close();
        linear.close();
    }

    /** One row, batch built per call (what a request handler does). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public ScoreResult singleRowBuildAndScore() {
        return forest.score(Batch.builder().addDoubleColumns(NAMES, oneRowColumns).build(), lean);
    }

    /** One row, batch reused: the crossing alone. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public ScoreResult singleRowScore() {
        return forest.score(oneRowReused, lean);
    }

    /** One row through the linear pipeline (impute, log1p, scale, one-hot of a string, dates). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public ScoreResult singleRowLinearPipeline() {
        return linear.score(linearOneRow, lean);
    }

    /** 10k rows from double[] columns (copied in by Get<Type>ArrayElements), 1 kiln thread. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(BATCH_ROWS)
    public ScoreResult batchArrays() {
        return forest.score(batch);
    }

    /** 10k rows from direct buffers (zero-copy), 1 kiln thread. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(BATCH_ROWS)
    public ScoreResult batchDirectBuffers() {
        return forest.score(directBatch);
    }

    /** 10k rows from an Arrow VectorSchemaRoot via the C Data Interface, 1 kiln thread. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(BATCH_ROWS)
    public ScoreResult batchArrow() {
        return KilnArrow.score(forest, root, allocator);
    }

    /** 10k rows, all cores. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(BATCH_ROWS)
    public ScoreResult batchArraysAllCores() {
        return forest.score(batch, ScoreOptions.DEFAULT.withThreads(0));
    }

    /** 10k rows of the linear pipeline (strings encoded once at build; 1 kiln thread). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(BATCH_ROWS)
    public ScoreResult batchLinearPipeline() {
        return linear.score(linearBatch);
    }
}
