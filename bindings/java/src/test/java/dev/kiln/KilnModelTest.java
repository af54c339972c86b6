package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KilnModelTest {
    @TempDir
    Path tmp;

    @Test
    void loadsFromFileAndBytesWithTheSameFingerprintAndDescription() {
        try (KilnModel fromFile = KilnModel.load(Fixtures.file("linear.kiln", tmp));
                KilnModel fromBytes = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            assertTrue(fromFile.fingerprint().matches("sha256:[0-9a-f]{64}"), fromFile.fingerprint());
            assertEquals(fromFile.fingerprint(), fromBytes.fingerprint());
            assertEquals(List.of("probability"), fromFile.outputNames());
            assertEquals(List.of(new KilnModel.Input("age", ColumnType.FLOAT64),
                    new KilnModel.Input("income", ColumnType.FLOAT64),
                    new KilnModel.Input("province", ColumnType.CATEGORICAL),
                    new KilnModel.Input("signup", ColumnType.DATE)), fromFile.inputs());
            assertEquals(List.of("age", "income", "province", "signup"), fromBytes.inputNames());
            String info = fromFile.infoJson();
            assertTrue(info.startsWith("{"), info);
            assertTrue(info.contains(fromFile.fingerprint()), info);
            assertTrue(info.contains("\"linear\""), info);
        }
    }

    @Test
    void pinnedFingerprintIsAccepted() {
        String fp;
        try (KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"))) {
            fp = m.fingerprint();
        }
        try (KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"), fp);
                KilnModel f = KilnModel.load(Fixtures.file("trees.kiln", tmp), fp)) {
            assertEquals(fp, m.fingerprint());
            assertEquals(fp, f.fingerprint());
            assertEquals(List.of("x1", "x2", "color"), m.inputNames());
        }
    }

    @Test
    void abiVersionAndLibraryVersionAreReported() {
        assertEquals(1, KilnModel.abiVersion());
        assertEquals(KilnNative.headerAbiVersion(), KilnModel.abiVersion());
        assertTrue(KilnModel.libraryVersion().matches("\\d+\\.\\d+\\.\\d+.*"), KilnModel.libraryVersion());
    }

    @Test
    void unknownAbiVersionsAreRefused() {
        assertNull(KilnNative.checkAbi(1, 1));
        KilnNative.LoadFailure newer = KilnNative.checkAbi(2, 2);
        assertEquals(KilnStatus.ABI_MISMATCH, newer.status());
        assertTrue(newer.message().contains("version 2"), newer.message());
        KilnNative.LoadFailure skew = KilnNative.checkAbi(1, 2);
        assertEquals(KilnStatus.ABI_MISMATCH, skew.status());
        assertTrue(skew.message().contains("rebuild the shim"), skew.message());
    }

    @Test
    void statusEnumsAgreeWithTheNativeNames() {
        KilnNative.ensureLoaded();
        for (KilnStatus s : KilnStatus.values()) {
            assertEquals(s.stableName(), KilnNative.utf8(KilnNative.statusName(s.code())), s.toString());
            assertEquals(s, KilnStatus.of(s.code()));
        }
        for (RowStatus s : RowStatus.values()) {
            assertEquals(s.stableName(), KilnNative.utf8(KilnNative.rowStatusName(s.code())), s.toString());
            assertEquals(s, RowStatus.ofCode(s.code()));
            assertTrue(!KilnNative.utf8(KilnNative.rowStatusDescription(s.code())).isEmpty());
        }
        assertEquals("unknown", KilnNative.utf8(KilnNative.rowStatusName(RowStatus.values().length)));
    }

    @Test
    void scoresKnownRowsAndFlagsAnUnknownCategory() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            Batch b = Batch.builder()
                    .addDoubles("age", new double[] {50, 40, 30})
                    .addDoubles("income", new double[] {100, Double.NaN, 5})
                    .addStrings("province", new String[] {"MADRID", "BARCELONA", "SEVILLA"})
                    .addDates("signup", new int[] {0, 18262, 18000}, null)
                    .build();
            ScoreResult r = m.score(b);
            assertEquals(3, r.rows());
            double eta0 = 0.5 * 1.0 + 0.1 * Math.log1p(100) + 1.0 + 0.01 * 600 - 0.3;
            double eta1 = 0.1 * Math.log1p(1000) - 1.0 - 0.3;
            assertEquals(1 / (1 + Math.exp(-eta0)), r.value(0, 0), 1e-14);
            assertEquals(1 / (1 + Math.exp(-eta1)), r.output("probability")[1], 1e-14);
            assertArrayEquals(new int[] {0, 0, RowStatus.UNKNOWN_CATEGORY.code()}, r.status());
            assertTrue(Double.isNaN(r.output(0)[2]));
            assertEquals(RowStatus.UNKNOWN_CATEGORY, r.status(2));
            assertNull(r.reason(0));
            assertEquals("province", r.reasonSource(2));
            assertEquals("unknown_category: province", r.reason(2));
            assertEquals(1, r.flaggedCount());
            String report = r.reportJson();
            assertNotNull(report);
            assertTrue(report.replace(" ", "").contains("\"flagged\":1"), report);
            assertTrue(report.replace(" ", "").contains("\"rows\":3"), report);
        }
    }

    @Test
    void optionsCanDropReasonsAndReport() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            Fixtures.LinearColumns c = new Fixtures.LinearColumns(100, 7);
            ScoreResult full = m.score(c.batch());
            ScoreResult lean = m.score(c.batch(), ScoreOptions.DEFAULT.withReasons(false).withReport(false));
            Fixtures.assertBitsEqual(full.outputs(), lean.outputs(), "lean vs full");
            assertArrayEquals(full.status(), lean.status());
            assertNull(lean.reportJson());
            int flagged = -1;
            for (int i = 0; i < 100; i++) {
                if (!lean.isScored(i)) {
                    flagged = i;
                    assertNull(lean.reasonSource(i));
                    assertNotNull(full.reasonSource(flagged));
                }
            }
            assertTrue(flagged >= 0, "the fixture has unknown categories, so some row is flagged");
        }
    }

    @Test
    void multiOutputModelReturnsOneArrayPerOutputSummingToOne() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("softmax.kiln"))) {
            assertEquals(List.of("p_a", "p_b", "p_c"), m.outputNames());
            assertEquals(ColumnType.INT64, m.inputs().get(1).type());
            double[] x1 = {0.0, 1.5, -2.0, 10.0};
            long[] x2 = {0, 3, -7, 1};
            ScoreResult r = m.score(Batch.builder().addDoubles("x1", x1).addLongs("x2", x2).build());
            assertEquals(3, r.outputs().length);
            for (int i = 0; i < x1.length; i++) {
                double[] eta = {0.1 * x1[i] + 0.2 * x2[i], 0.5 - 0.3 * x1[i] + 0.05 * x2[i], -0.5 - 0.1 * x2[i]};
                double max = Math.max(eta[0], Math.max(eta[1], eta[2]));
                double sum = 0;
                for (double e : eta) {
                    sum += Math.exp(e - max);
                }
                for (int j = 0; j < 3; j++) {
                    assertEquals(Math.exp(eta[j] - max) / sum, r.value(i, j), 1e-14, "row " + i + " output " + j);
                }
            }
            // The same longs as ints, floats or doubles: every integer/float type widens exactly.
            ScoreResult asInts = m.score(Batch.builder().addFloats("x1", new float[] {0f, 1.5f, -2f, 10f})
                    .addInts("x2", new int[] {0, 3, -7, 1}).build());
            Fixtures.assertBitsEqual(r.outputs(), asInts.outputs(), "int/float columns vs long/double");
        }
    }

    @Test
    void columnMatrixBuildersMatchOneByOneColumns() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"))) {
            Fixtures.TreeColumns c = new Fixtures.TreeColumns(500, 3);
            ScoreResult a = m.score(c.batch());
            ScoreResult b = m.score(Batch.builder()
                    .addDoubleColumns(new String[] {"x1", "x2"}, new double[][] {c.x1, c.x2})
                    .addStringColumns(new String[] {"color"}, new String[][] {c.color})
                    .build());
            Fixtures.assertBitsEqual(a.outputs(), b.outputs(), "matrix builder");
        }
    }

    @Test
    void resultsAreBitIdenticalAcrossKilnThreadCounts() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"))) {
            Batch b = new Fixtures.TreeColumns(200_000, 11).batch();
            ScoreResult one = m.score(b);
            for (int threads : new int[] {0, 2, 3}) {
                ScoreResult many = m.score(b, ScoreOptions.DEFAULT.withThreads(threads));
                Fixtures.assertBitsEqual(one.outputs(), many.outputs(), threads + " threads vs 1");
                assertArrayEquals(one.status(), many.status());
            }
        }
    }

    @Test
    void emptyBatchScoresToEmptyResult() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("trees.kiln"))) {
            ScoreResult r = m.score(Batch.builder().addDoubles("x1", new double[0]).addDoubles("x2", new double[0])
                    .addStrings("color", new String[0]).build());
            assertEquals(0, r.rows());
            assertEquals(0, r.output(0).length);
        }
    }
}
