package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every misuse ends in a KilnException that says what is wrong; none crashes the JVM. */
class ErrorsTest {
    @TempDir
    Path tmp;

    private static KilnException expect(KilnStatus status, String messagePart, Executable call) {
        KilnException e = assertThrows(KilnException.class, call);
        assertEquals(status, e.status(), e.getMessage());
        assertEquals(status.code(), e.code());
        assertTrue(e.getMessage().contains(messagePart), "message '" + e.getMessage() + "' lacks '" + messagePart + "'");
        return e;
    }

    private static Batch linearBatch() {
        return new Fixtures.LinearColumns(10, 1).batch();
    }

    @Test
    void useAfterCloseThrowsAndCloseIsIdempotent() {
        KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"));
        Batch b = linearBatch();
        m.score(b);
        m.close();
        expect(KilnStatus.NULL_ARGUMENT, "closed", () -> m.score(b));
        expect(KilnStatus.NULL_ARGUMENT, "closed", m::fingerprint);
        expect(KilnStatus.NULL_ARGUMENT, "closed", m::inputs);
        assertDoesNotThrow(m::close);
    }

    @Test
    void fingerprintMismatchOnBytesAndFile() {
        String wrong = "sha256:" + "0".repeat(64);
        expect(KilnStatus.FINGERPRINT_MISMATCH, wrong, () -> KilnModel.load(Fixtures.bytes("linear.kiln"), wrong));
        Path file = Fixtures.file("linear.kiln", tmp);
        expect(KilnStatus.FINGERPRINT_MISMATCH, wrong, () -> KilnModel.load(file, wrong));
    }

    @Test
    void alteredContentIsRefusedAgainstItsStoredFingerprint() {
        String fp;
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            fp = m.fingerprint();
        }
        String text = new String(Fixtures.bytes("linear.kiln"), StandardCharsets.UTF_8);
        String sealed = text.replace("\"format_version\": \"1.0\",", "\"format_version\": \"1.0\", \"fingerprint\": \"" + fp + "\",");
        assertDoesNotThrow(() -> KilnModel.load(sealed.getBytes(StandardCharsets.UTF_8)).close());
        String altered = sealed.replace("\"intercept\": [-0.3]", "\"intercept\": [-0.4]");
        expect(KilnStatus.FINGERPRINT_MISMATCH, "fingerprint", () -> KilnModel.load(altered.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void badArtifactsAndMissingFiles() {
        expect(KilnStatus.MALFORMED_ARTIFACT, "", () -> KilnModel.load("not json".getBytes(StandardCharsets.UTF_8)));
        byte[] full = Fixtures.bytes("linear.kiln");
        byte[] truncated = java.util.Arrays.copyOf(full, full.length / 2);
        expect(KilnStatus.MALFORMED_ARTIFACT, "truncated", () -> KilnModel.load(truncated));
        String newer = new String(full, StandardCharsets.UTF_8).replace("\"1.0\"", "\"9.0\"");
        expect(KilnStatus.UNSUPPORTED_VERSION, "9.0", () -> KilnModel.load(newer.getBytes(StandardCharsets.UTF_8)));
        Path missing = tmp.resolve("nope.kiln");
        expect(KilnStatus.IO, "nope.kiln", () -> KilnModel.load(missing));
        expect(KilnStatus.NULL_ARGUMENT, "null", () -> KilnModel.load((byte[]) null));
        expect(KilnStatus.NULL_ARGUMENT, "null", () -> KilnModel.load((Path) null));
        expect(KilnStatus.INVALID_ARGUMENT, "NUL", () -> KilnModel.load(full, "sha256:\0"));
    }

    @Test
    void missingColumnIsNamed() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            Fixtures.LinearColumns c = new Fixtures.LinearColumns(5, 2);
            Batch b = Batch.builder().addDoubles("age", c.age).addStrings("province", c.province)
                    .addDates("signup", c.signupDays, null).build();
            expect(KilnStatus.MISSING_COLUMN, "income", () -> m.score(b));
        }
    }

    @Test
    void wrongColumnTypesAreNamed() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            Fixtures.LinearColumns c = new Fixtures.LinearColumns(5, 2);
            Batch stringsForNumber = Batch.builder().addStrings("age", c.province).addDoubles("income", c.income)
                    .addStrings("province", c.province).addDates("signup", c.signupDays, null).build();
            expect(KilnStatus.COLUMN_TYPE, "age", () -> m.score(stringsForNumber));
            Batch numbersForCategory = Batch.builder().addDoubles("age", c.age).addDoubles("income", c.income)
                    .addDoubles("province", c.age).addDates("signup", c.signupDays, null).build();
            expect(KilnStatus.COLUMN_TYPE, "province", () -> m.score(numbersForCategory));
        }
    }

    @Test
    void nullAndTooSmallInputsAreRefusedWhenAdded() {
        expect(KilnStatus.NULL_ARGUMENT, "age", () -> Batch.builder().addDoubles("age", null));
        expect(KilnStatus.NULL_ARGUMENT, "age", () -> Batch.builder().addBuffer("age", PhysicalType.F64, null));
        expect(KilnStatus.NULL_ARGUMENT, "name", () -> Batch.builder().addDoubles(null, new double[1]));
        expect(KilnStatus.INVALID_ARGUMENT, "rows", () -> Batch.builder().addDoubles("a", new double[3])
                .addDoubles("b", new double[2]));
        expect(KilnStatus.INVALID_ARGUMENT, "twice", () -> Batch.builder().addDoubles("a", new double[3])
                .addDoubles("a", new double[3]));
        expect(KilnStatus.INVALID_ARGUMENT, "nulls", () -> Batch.builder().addDoubles("a", new double[3], new boolean[2]));
        ByteBuffer small = ByteBuffer.allocateDirect(16);
        expect(KilnStatus.BUFFER_TOO_SMALL, "3 rows of F64 need 24", () -> Batch.builder().rows(3)
                .addBuffer("age", PhysicalType.F64, small));
        expect(KilnStatus.INVALID_ARGUMENT, "allocateDirect", () -> Batch.builder()
                .addBuffer("age", PhysicalType.F64, ByteBuffer.allocate(24)));
        expect(KilnStatus.BAD_BUFFER, "whole number", () -> Batch.builder()
                .addBuffer("age", PhysicalType.F64, ByteBuffer.allocateDirect(20)));
        expect(KilnStatus.BUFFER_TOO_SMALL, "null mask", () -> Batch.builder().rows(3)
                .addBuffer("age", PhysicalType.F64, ByteBuffer.allocateDirect(24), ByteBuffer.allocateDirect(2)));
        expect(KilnStatus.INVALID_ARGUMENT, "threads", () -> ScoreOptions.DEFAULT.withThreads(-1));
    }

    @Test
    void misalignedDirectBufferIsRefusedByTheShim() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("softmax.kiln"))) {
            ByteBuffer raw = ByteBuffer.allocateDirect(8 * 4 + 1).order(ByteOrder.nativeOrder());
            raw.position(1);
            ByteBuffer x1 = raw.slice().order(ByteOrder.nativeOrder());
            Batch b = Batch.builder().rows(4).addBuffer("x1", PhysicalType.F64, x1)
                    .addLongs("x2", new long[4]).build();
            expect(KilnStatus.BAD_BUFFER, "not aligned", () -> m.score(b));
        }
    }

    /**
     * The Java side validates everything above before native code runs; these calls skip it and
     * hand the shim inconsistent arguments directly, which it must refuse rather than read out of
     * bounds or mistype an array.
     */
    @Test
    void theShimGuardsAgainstInconsistentArgumentsItself() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("softmax.kiln"))) {
            long[] out = new long[1];
            KilnNative.checkCall(KilnNative.modelLoadBytes(Fixtures.bytes("softmax.kiln"), null, out));
            long h = out[0];
            try {
                byte[][] names = {KilnNative.cString("x1"), KilnNative.cString("x2")};
                int[] kinds = {PhysicalType.F64.code(), PhysicalType.I64.code()};
                long[] zeros = new long[2];
                double[][] outs = new double[3][4];
                int[] status = new int[4];
                // x1 has 2 values for 4 rows.
                int st = KilnNative.scoreColumns(h, 4, names, kinds, new Object[] {new double[2], new long[4]}, zeros,
                        zeros, new Object[2], zeros, new Object[2], zeros, 1, outs, status, null, null);
                assertEquals(KilnStatus.BUFFER_TOO_SMALL.code(), st);
                assertTrue(KilnNative.utf8(KilnNative.lastError()).contains("x1"));
                // x1 given as int[] although its kind says F64.
                st = KilnNative.scoreColumns(h, 4, names, kinds, new Object[] {new int[4], new long[4]}, zeros, zeros,
                        new Object[2], zeros, new Object[2], zeros, 1, outs, status, null, null);
                assertEquals(KilnStatus.INVALID_ARGUMENT.code(), st);
                assertTrue(KilnNative.utf8(KilnNative.lastError()).contains("double[]"));
                // Output arrays shorter than the batch.
                st = KilnNative.scoreColumns(h, 4, names, kinds, new Object[] {new double[4], new long[4]}, zeros,
                        zeros, new Object[2], zeros, new Object[2], zeros, 1, new double[3][2], status, null, null);
                assertEquals(KilnStatus.BUFFER_TOO_SMALL.code(), st);
                // Too few output arrays for the model's three outputs: kiln's own check.
                st = KilnNative.scoreColumns(h, 4, names, kinds, new Object[] {new double[4], new long[4]}, zeros,
                        zeros, new Object[2], zeros, new Object[2], zeros, 1, new double[2][4], status, null, null);
                assertEquals(KilnStatus.BUFFER_TOO_SMALL.code(), st);
                // A direct buffer smaller than its rows.
                st = KilnNative.scoreColumns(h, 4, names, kinds,
                        new Object[] {ByteBuffer.allocateDirect(24), new long[4]}, zeros, zeros, new Object[2], zeros,
                        new Object[2], zeros, 1, outs, status, null, null);
                assertEquals(KilnStatus.BUFFER_TOO_SMALL.code(), st);
                // An unknown column kind.
                st = KilnNative.scoreColumns(h, 4, names, new int[] {42, 3}, new Object[] {new double[4], new long[4]},
                        zeros, zeros, new Object[2], zeros, new Object[2], zeros, 1, outs, status, null, null);
                assertEquals(KilnStatus.INVALID_ARGUMENT.code(), st);
                // A name that is not NUL-terminated.
                st = KilnNative.scoreColumns(h, 4, new byte[][] {"x1".getBytes(StandardCharsets.UTF_8), names[1]},
                        kinds, new Object[] {new double[4], new long[4]}, zeros, zeros, new Object[2], zeros,
                        new Object[2], zeros, 1, outs, status, null, null);
                assertEquals(KilnStatus.INVALID_ARGUMENT.code(), st);
                // Null Arrow addresses.
                st = KilnNative.scoreArrow(h, 0, 0, 4, 1, outs, status, null, null);
                assertEquals(KilnStatus.NULL_ARGUMENT.code(), st);
                // After all that, the same handle still scores.
                st = KilnNative.scoreColumns(h, 4, names, kinds, new Object[] {new double[4], new long[4]}, zeros,
                        zeros, new Object[2], zeros, new Object[2], zeros, 1, outs, status, null, null);
                assertEquals(0, st, () -> KilnNative.utf8(KilnNative.lastError()));
            } finally {
                KilnNative.modelFree(h);
            }
        }
    }

    @Test
    void errorMessageSurvivesLaterSuccessfulCalls() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            KilnException e = assertThrows(KilnException.class, () -> m.score(Batch.builder()
                    .addDoubles("age", new double[1]).build()));
            assertEquals(KilnStatus.MISSING_COLUMN, e.status());
            m.score(linearBatch());
            assertTrue(e.getMessage().contains("missing"), e.getMessage());
        }
    }
}
