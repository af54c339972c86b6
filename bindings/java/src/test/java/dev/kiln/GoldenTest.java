package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The shared golden cases of tests/golden (format described in its README): every case must
 * come out of the JVM binding with exactly the committed bits, through every door (arrays,
 * Arrow with plain and dictionary strings), with several thread counts and split batches.
 */
class GoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path goldenDir() {
        String dir = System.getProperty("kiln.golden.dir", "../../tests/golden");
        return Paths.get(dir).toAbsolutePath().normalize();
    }

    /** One input column of input.json. */
    private record Column(String name, String type, JsonNode values) {
        boolean isNull(int i) {
            return values.get(i).isNull();
        }
    }

    private record Case(String name, Path dir, List<Column> columns, int rows, JsonNode expected) {}

    private static Case read(Path dir) throws IOException {
        JsonNode input = JSON.readTree(Files.readString(dir.resolve("input.json"), StandardCharsets.UTF_8));
        JsonNode expected = JSON.readTree(Files.readString(dir.resolve("expected.json"), StandardCharsets.UTF_8));
        assertEquals("kiln-golden-1", input.path("format").asText(), dir + "/input.json: unknown format");
        assertEquals("kiln-golden-1", expected.path("format").asText(), dir + "/expected.json: unknown format");
        List<Column> cols = new ArrayList<>();
        for (JsonNode c : input.get("columns")) {
            cols.add(new Column(c.get("name").asText(), c.get("type").asText(), c.get("values")));
        }
        return new Case(dir.getFileName().toString(), dir, cols, input.get("n_rows").asInt(), expected);
    }

    /** Rows [from, to) of the case as a raw-door batch. */
    private static Batch batch(Case c, int from, int to) {
        Batch.Builder b = Batch.builder().rows(to - from);
        for (Column col : c.columns) {
            int n = to - from;
            boolean[] nulls = new boolean[n];
            for (int i = 0; i < n; i++) {
                nulls[i] = col.isNull(from + i);
            }
            switch (col.type) {
                case "float64" -> {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = nulls[i] ? 0.0 : col.values.get(from + i).doubleValue();
                    }
                    b.addDoubles(col.name, v, nulls);
                }
                case "int32" -> {
                    int[] v = new int[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = nulls[i] ? 0 : col.values.get(from + i).intValue();
                    }
                    b.addInts(col.name, v, nulls);
                }
                case "bool" -> {
                    boolean[] v = new boolean[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = !nulls[i] && col.values.get(from + i).booleanValue();
                    }
                    b.addBooleans(col.name, v, nulls);
                }
                case "utf8" -> {
                    String[] v = new String[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = nulls[i] ? null : col.values.get(from + i).textValue();
                    }
                    b.addStrings(col.name, v);
                }
                case "date32" -> {
                    int[] v = new int[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = nulls[i] ? 0 : col.values.get(from + i).intValue();
                    }
                    b.addDates(col.name, v, nulls);
                }
                default -> throw new AssertionError(c.name + ": unknown column type '" + col.type + "'");
            }
        }
        return b.build();
    }

    /** The whole case as an Arrow record batch; utf8 columns dictionary-encoded when asked. */
    private static VectorSchemaRoot arrow(Case c, BufferAllocator a, DictionaryProvider.MapDictionaryProvider dicts,
            List<FieldVector> dictVectors) {
        List<FieldVector> vectors = new ArrayList<>();
        long dictId = 0;
        for (Column col : c.columns) {
            int n = c.rows;
            switch (col.type) {
                case "float64" -> {
                    Float8Vector v = new Float8Vector(col.name, a);
                    v.allocateNew(n);
                    for (int i = 0; i < n; i++) {
                        if (col.isNull(i)) {
                            v.setNull(i);
                        } else {
                            v.set(i, col.values.get(i).doubleValue());
                        }
                    }
                    v.setValueCount(n);
                    vectors.add(v);
                }
                case "int32" -> {
                    IntVector v = new IntVector(col.name, a);
                    v.allocateNew(n);
                    for (int i = 0; i < n; i++) {
                        if (col.isNull(i)) {
                            v.setNull(i);
                        } else {
                            v.set(i, col.values.get(i).intValue());
                        }
                    }
                    v.setValueCount(n);
                    vectors.add(v);
                }
                case "bool" -> {
                    BitVector v = new BitVector(col.name, a);
                    v.allocateNew(n);
                    for (int i = 0; i < n; i++) {
                        if (col.isNull(i)) {
                            v.setNull(i);
                        } else {
                            v.set(i, col.values.get(i).booleanValue() ? 1 : 0);
                        }
                    }
                    v.setValueCount(n);
                    vectors.add(v);
                }
                case "date32" -> {
                    DateDayVector v = new DateDayVector(col.name, a);
                    v.allocateNew(n);
                    for (int i = 0; i < n; i++) {
                        if (col.isNull(i)) {
                            v.setNull(i);
                        } else {
                            v.set(i, col.values.get(i).intValue());
                        }
                    }
                    v.setValueCount(n);
                    vectors.add(v);
                }
                case "utf8" -> {
                    if (dicts == null) {
                        VarCharVector v = new VarCharVector(col.name, a);
                        v.allocateNew(n);
                        for (int i = 0; i < n; i++) {
                            if (col.isNull(i)) {
                                v.setNull(i);
                            } else {
                                v.setSafe(i, col.values.get(i).textValue().getBytes(StandardCharsets.UTF_8));
                            }
                        }
                        v.setValueCount(n);
                        vectors.add(v);
                    } else {
                        // Categories in reverse order of first appearance, so codes differ from
                        // row order and from any sorted order.
                        Map<String, Integer> index = new LinkedHashMap<>();
                        for (int i = 0; i < n; i++) {
                            if (!col.isNull(i)) {
                                index.putIfAbsent(col.values.get(i).textValue(), index.size());
                            }
                        }
                        List<String> cats = new ArrayList<>(index.keySet());
                        java.util.Collections.reverse(cats);
                        VarCharVector dict = new VarCharVector(col.name + "_dictionary", a);
                        dict.allocateNew(cats.size());
                        for (int k = 0; k < cats.size(); k++) {
                            dict.setSafe(k, cats.get(k).getBytes(StandardCharsets.UTF_8));
                        }
                        dict.setValueCount(cats.size());
                        DictionaryEncoding enc = new DictionaryEncoding(++dictId, false, new ArrowType.Int(32, true));
                        dicts.put(new Dictionary(dict, enc));
                        dictVectors.add(dict);
                        IntVector codes = new IntVector(col.name, new FieldType(true, new ArrowType.Int(32, true), enc), a);
                        codes.allocateNew(n);
                        for (int i = 0; i < n; i++) {
                            if (col.isNull(i)) {
                                codes.setNull(i);
                            } else {
                                codes.set(i, cats.indexOf(col.values.get(i).textValue()));
                            }
                        }
                        codes.setValueCount(n);
                        vectors.add(codes);
                    }
                }
                default -> throw new AssertionError(c.name + ": unknown column type '" + col.type + "'");
            }
        }
        VectorSchemaRoot root = new VectorSchemaRoot(vectors);
        root.setRowCount(c.rows);
        return root;
    }

    /** Checks a result for rows [from, from + r.rows()) against expected.json. */
    private static void check(Case c, ScoreResult r, int from, String how) {
        JsonNode exp = c.expected;
        String where = c.name + " (" + how + ")";
        JsonNode outs = exp.get("outputs");
        assertEquals(outs.size(), r.outputs().length, where + ": number of outputs");
        for (int j = 0; j < outs.size(); j++) {
            JsonNode bits = outs.get(j).get("bits");
            JsonNode values = outs.get(j).get("values");
            for (int i = 0; i < r.rows(); i++) {
                int row = from + i;
                double got = r.value(i, j);
                if (bits.get(row).isNull()) {
                    assertTrue(Double.isNaN(got), where + ": output " + j + " row " + row + " should be NaN, got " + got);
                } else {
                    long want = Long.parseUnsignedLong(bits.get(row).asText(), 16);
                    long have = Double.doubleToRawLongBits(got);
                    if (want != have) {
                        throw new AssertionError(where + ": output '" + outs.get(j).get("name").asText() + "' row " + row
                                + ": expected " + values.get(row).asText() + " (" + bits.get(row).asText() + "), got "
                                + got + " (" + String.format("%016x", have) + ")");
                    }
                    // The decimal form parses to the same double (a check on the file itself).
                    assertEquals(want, Double.doubleToRawLongBits(Double.parseDouble(values.get(row).asText())),
                            where + ": values and bits disagree in expected.json at row " + row);
                }
            }
        }
        for (int i = 0; i < r.rows(); i++) {
            int row = from + i;
            assertEquals(exp.get("status").get(row).asInt(), r.status()[i], where + ": status of row " + row);
            String name = exp.get("status_names").get(row).asText();
            assertEquals(name, r.status(i).stableName(), where + ": status name of row " + row);
            JsonNode source = exp.get("reason_sources").get(row);
            assertEquals(source.isNull() ? null : source.asText(), r.reasonSource(i), where + ": reason source of row " + row);
        }
    }

    @TestFactory
    Stream<DynamicTest> goldenCases() throws IOException {
        Path root = goldenDir();
        assertTrue(Files.isDirectory(root), "golden cases not found at " + root + " (set -Dkiln.golden.dir)");
        List<Path> dirs;
        try (Stream<Path> s = Files.list(root)) {
            dirs = s.filter(p -> Files.isRegularFile(p.resolve("expected.json"))).sorted().toList();
        }
        assertFalse(dirs.isEmpty(), "no golden cases under " + root);
        return dirs.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> runCase(read(dir))));
    }

    private static void runCase(Case c) throws Exception {
        JsonNode exp = c.expected;
        String fp = exp.get("fingerprint").asText();
        assertEquals(c.rows, exp.get("n_rows").asInt());
        try (KilnModel m = KilnModel.load(c.dir.resolve("model.kiln"), fp)) {
            assertEquals(fp, m.fingerprint());
            List<String> names = new ArrayList<>();
            exp.get("outputs").forEach(o -> names.add(o.get("name").asText()));
            assertEquals(names, m.outputNames());

            ScoreResult whole = m.score(batch(c, 0, c.rows));
            check(c, whole, 0, "arrays, 1 thread");
            JsonNode report = JSON.readTree(whole.reportJson());
            assertEquals(exp.get("scored").asLong(), report.get("scored").asLong(), c.name + ": report scored");
            assertEquals(exp.get("flagged").asLong(), report.get("flagged").asLong(), c.name + ": report flagged");
            assertEquals(c.rows, report.get("rows").asLong());

            for (int threads : new int[] {0, 3}) {
                check(c, m.score(batch(c, 0, c.rows), ScoreOptions.DEFAULT.withThreads(threads)), 0,
                        "arrays, " + threads + " threads");
            }
            // Split into three uneven batches: every row keeps its bits.
            int a = c.rows / 3;
            int b = Math.max(a, c.rows - 1);
            int[][] parts = {{0, a}, {a, b}, {b, c.rows}};
            for (int[] p : parts) {
                check(c, m.score(batch(c, p[0], p[1])), p[0], "rows " + p[0] + ".." + p[1]);
            }

            try (BufferAllocator allocator = new RootAllocator()) {
                try (VectorSchemaRoot root = arrow(c, allocator, null, null)) {
                    ScoreResult r = KilnArrow.score(m, root, allocator);
                    check(c, r, 0, "Arrow");
                    int[] statuses = r.status();
                    assertArrayEquals(whole.status(), statuses);
                }
                DictionaryProvider.MapDictionaryProvider dicts = new DictionaryProvider.MapDictionaryProvider();
                List<FieldVector> dictVectors = new ArrayList<>();
                try (VectorSchemaRoot root = arrow(c, allocator, dicts, dictVectors)) {
                    check(c, KilnArrow.score(m, root, dicts, allocator, ScoreOptions.DEFAULT), 0, "Arrow dictionary");
                } finally {
                    dictVectors.forEach(FieldVector::close);
                }
                assertEquals(0, allocator.getAllocatedMemory(), c.name + ": Arrow buffers not all released");
            }
        }
    }
}
