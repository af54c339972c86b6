package dev.kiln.examples;

import dev.kiln.Batch;
import dev.kiln.KilnModel;
import dev.kiln.ScoreResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Scores a Parquet file with kiln inside Spark executors.
 *
 * <p>The artifact's bytes are broadcast once; each executor JVM loads the model once (the
 * first task to need it) and every task on that executor shares it, since a loaded model is
 * immutable and thread-safe. Each partition is scored in chunks of {@link #CHUNK_ROWS} rows on
 * the task's own thread (kiln's default of one thread per call: Spark already runs one task per
 * core, so kiln must not fan out on top).
 *
 * <p>Run: {@code mvn -q -B compile exec:exec -Dkiln.example.args="model.kiln data.parquet"}.
 * Without arguments it writes a small artifact and a Parquet file of generated rows to a
 * temporary directory and scores those.
 */
public final class SparkScoring {
    static final int CHUNK_ROWS = 4096;

    /** One model per executor JVM, keyed by fingerprint, shared by all its tasks. */
    private static final ConcurrentHashMap<String, KilnModel> MODELS = new ConcurrentHashMap<>();

    static KilnModel model(String fingerprint, byte[] artifact) {
        return MODELS.computeIfAbsent(fingerprint, fp -> KilnModel.load(artifact, fp));
    }

    /** Scores one partition: rows of (id, age, income, province) to (id, probability, status, reason). */
    static final class ScorePartition implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<byte[]> artifact;
        private final String fingerprint;

        ScorePartition(Broadcast<byte[]> artifact, String fingerprint) {
            this.artifact = artifact;
            this.fingerprint = fingerprint;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            KilnModel m = model(fingerprint, artifact.value());
            return new Iterator<>() {
                private final List<Row> out = new ArrayList<>();
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < out.size()) {
                        return true;
                    }
                    out.clear();
                    next = 0;
                    fill();
                    return !out.isEmpty();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return out.get(next++);
                }

                /** Reads up to CHUNK_ROWS input rows and scores them as one batch. */
                private void fill() {
                    long[] id = new long[CHUNK_ROWS];
                    double[] age = new double[CHUNK_ROWS];
                    double[] income = new double[CHUNK_ROWS];
                    String[] province = new String[CHUNK_ROWS];
                    int n = 0;
                    while (n < CHUNK_ROWS && rows.hasNext()) {
                        Row r = rows.next();
                        id[n] = r.getLong(0);
                        age[n] = r.isNullAt(1) ? Double.NaN : r.getDouble(1);
                        income[n] = r.isNullAt(2) ? Double.NaN : r.getDouble(2);
                        province[n] = r.isNullAt(3) ? null : r.getString(3);
                        n++;
                    }
                    if (n == 0) {
                        return;
                    }
                    ScoreResult s = m.score(Batch.builder()
                            .addDoubles("age", java.util.Arrays.copyOf(age, n))
                            .addDoubles("income", java.util.Arrays.copyOf(income, n))
                            .addStrings("province", java.util.Arrays.copyOf(province, n))
                            .build());
                    double[] p = s.output(0);
                    for (int i = 0; i < n; i++) {
                        out.add(RowFactory.create(id[i], s.isScored(i) ? p[i] : null, s.status()[i], s.reason(i)));
                    }
                }
            };
        }
    }

    static final StructType OUTPUT = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("probability", DataTypes.DoubleType, true)
            .add("status", DataTypes.IntegerType, false)
            .add("reason", DataTypes.StringType, true);

    /** A small artifact: impute, log1p, scale, one-hot, logistic. */
    static final String EXAMPLE_ARTIFACT = "{\"format\":\"kiln\",\"format_version\":\"1.0\",\"content\":{"
            + "\"schema\":{\"columns\":[{\"name\":\"age\",\"type\":\"float64\",\"min\":0,\"max\":130},"
            + "{\"name\":\"income\",\"type\":\"float64\"},"
            + "{\"name\":\"province\",\"type\":\"categorical\",\"categories\":[\"MADRID\",\"BARCELONA\"]}]},"
            + "\"pipeline\":[{\"step\":\"impute\",\"column\":\"income\",\"value\":1000.0},"
            + "{\"step\":\"log1p\",\"column\":\"income\"},"
            + "{\"step\":\"standard_scale\",\"column\":\"age\",\"mean\":40.0,\"scale\":10.0},"
            + "{\"step\":\"one_hot\",\"column\":\"province\",\"categories\":[\"MADRID\",\"BARCELONA\"],"
            + "\"unknown\":\"ignore\",\"outputs\":[\"p_mad\",\"p_bcn\"]}],"
            + "\"model\":{\"kind\":\"linear\",\"features\":[\"age\",\"income\",\"p_mad\",\"p_bcn\"],"
            + "\"coefficients\":[[0.5,0.1,1.0,-1.0]],\"intercept\":[-0.3],\"link\":\"logit\"},"
            + "\"outputs\":[{\"name\":\"probability\"}],\"provenance\":{\"library\":\"kiln\"}}}";

    public static void main(String[] args) throws Exception {
        SparkSession spark = SparkSession.builder().appName("kiln-spark-example").master("local[2]")
                .config("spark.ui.enabled", "false").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            Path modelPath;
            String parquet;
            if (args.length >= 2) {
                modelPath = Paths.get(args[0]);
                parquet = args[1];
            } else {
                Path dir = Files.createTempDirectory("kiln-spark");
                modelPath = dir.resolve("model.kiln");
                Files.writeString(modelPath, EXAMPLE_ARTIFACT);
                parquet = dir.resolve("input.parquet").toString();
                spark.range(0, 100_000, 1, 4)
                        .withColumn("age", functions.expr("CAST(18 + (id * 7919 % 600) / 10.0 AS DOUBLE)"))
                        .withColumn("income", functions.expr("IF(id % 13 = 0, NULL, CAST(id * 104729 % 5000 AS DOUBLE))"))
                        .withColumn("province", functions.expr(
                                "element_at(array('MADRID', 'BARCELONA', 'SEVILLA'), CAST(id % 3 AS INT) + 1)"))
                        .write().parquet(parquet);
            }
            byte[] artifact = Files.readAllBytes(modelPath);
            String fingerprint;
            try (KilnModel m = KilnModel.load(artifact)) {
                fingerprint = m.fingerprint();
            }
            Broadcast<byte[]> shared = spark.sparkContext().broadcast(artifact,
                    scala.reflect.ClassTag$.MODULE$.apply(byte[].class));

            // kiln checks types at the edge; the casts make the Parquet schema's numeric types
            // (decimal, int, float) the doubles the partition function reads.
            Dataset<Row> input = spark.read().parquet(parquet).select(functions.col("id").cast("long"),
                    functions.col("age").cast("double"), functions.col("income").cast("double"),
                    functions.col("province").cast("string"));
            long start = System.nanoTime();
            Dataset<Row> scored = input.mapPartitions(new ScorePartition(shared, fingerprint), Encoders.row(OUTPUT));
            scored.cache();
            long n = scored.count();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("scored %d rows from %s with %s in %.2f s%n", n, parquet, fingerprint, seconds);
            scored.groupBy("status", "reason").count().orderBy("status").show(false);
            scored.orderBy("id").show(5, false);
        } finally {
            spark.stop();
        }
    }
}
