package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/** The zero-copy door gives exactly what the array door gives. */
class DirectBufferTest {
    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    @Test
    void directBuffersScoreLikeArrays() {
        int n = 1000;
        Fixtures.LinearColumns c = new Fixtures.LinearColumns(n, 5);
        // Leave 16 bytes in front so the columns start at a non-zero (aligned) position.
        ByteBuffer age = direct(16 + 8 * n);
        ByteBuffer income = direct(8 * n);
        ByteBuffer signup = direct(4 * n);
        age.position(16);
        for (int i = 0; i < n; i++) {
            age.putDouble(16 + 8 * i, c.age[i]);
            income.putDouble(8 * i, c.income[i]);
            signup.putInt(4 * i, c.signupDays[i]);
        }
        // Strings as Arrow-style offsets + UTF-8 bytes, nulls in a byte mask.
        ByteBuffer offsets = direct(4 * (n + 1));
        ByteBuffer mask = direct(n);
        byte[][] enc = new byte[n][];
        int total = 0;
        for (int i = 0; i < n; i++) {
            enc[i] = c.province[i] == null ? new byte[0] : c.province[i].getBytes(StandardCharsets.UTF_8);
            offsets.putInt(4 * i, total);
            mask.put(i, (byte) (c.province[i] == null ? 1 : 0));
            total += enc[i].length;
        }
        offsets.putInt(4 * n, total);
        ByteBuffer bytes = direct(Math.max(total, 1));
        for (int i = 0, at = 0; i < n; at += enc[i].length, i++) {
            for (int k = 0; k < enc[i].length; k++) {
                bytes.put(at + k, enc[i][k]);
            }
        }
        bytes.limit(total);
        Batch viaBuffers = Batch.builder()
                .addBuffer("age", PhysicalType.F64, age)
                .addBuffer("income", PhysicalType.F64, income)
                .addUtf8Buffers("province", offsets, bytes, mask)
                .addBuffer("signup", PhysicalType.DATE32, signup)
                .build();
        assertEquals(n, viaBuffers.rows());
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            ScoreResult expected = m.score(c.batch());
            ScoreResult actual = m.score(viaBuffers);
            Fixtures.assertBitsEqual(expected.outputs(), actual.outputs(), "direct buffers vs arrays");
            assertArrayEquals(expected.status(), actual.status());
            assertEquals(expected.reportJson(), actual.reportJson());
        }
    }

    /** Every linear.kiln input but income. */
    private static Batch.Builder linearBase() {
        return Batch.builder().addDoubles("age", new double[] {30, 40, 50})
                .addStrings("province", new String[] {"MADRID", null, "BARCELONA"})
                .addDates("signup", new LocalDate[] {LocalDate.of(2019, 5, 1), LocalDate.of(2020, 7, 9),
                    LocalDate.of(2021, 2, 3)});
    }

    @Test
    void nullMasksOnArraysAndBuffersMarkNulls() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            double[] income = {100, 200, 300};
            boolean[] nulls = {false, true, false};
            ByteBuffer incomeBuf = direct(24);
            ByteBuffer maskBuf = direct(3);
            for (int i = 0; i < 3; i++) {
                incomeBuf.putDouble(8 * i, income[i]);
                maskBuf.put(i, (byte) (nulls[i] ? 7 : 0));
            }
            ScoreResult withNan = m.score(linearBase().addDoubles("income", new double[] {100, Double.NaN, 300}).build());
            ScoreResult withMask = m.score(linearBase().addDoubles("income", income, nulls).build());
            ScoreResult withBufMask = m.score(linearBase().addBuffer("income", PhysicalType.F64, incomeBuf, maskBuf).build());
            ScoreResult imputedByHand = m.score(linearBase().addDoubles("income", new double[] {100, 1000, 300}).build());
            ScoreResult unmasked = m.score(linearBase().addDoubles("income", income).build());
            Fixtures.assertBitsEqual(withNan.outputs(), withMask.outputs(), "boolean[] mask vs NaN");
            Fixtures.assertBitsEqual(withNan.outputs(), withBufMask.outputs(), "buffer mask vs NaN");
            // The masked value was imputed with the fitted 1000, not read as 200.
            Fixtures.assertBitsEqual(imputedByHand.outputs(), withMask.outputs(), "mask vs imputed by hand");
            assertNotEquals(unmasked.value(1, 0), withMask.value(1, 0));
            assertEquals(unmasked.value(0, 0), withMask.value(0, 0));
        }
    }

    @Test
    void arraysAreReadAtScoreTimeNotCopiedAtBuild() {
        try (KilnModel m = KilnModel.load(Fixtures.bytes("softmax.kiln"))) {
            double[] x1 = {1, 2};
            Batch b = Batch.builder().addDoubles("x1", x1).addLongs("x2", new long[] {0, 0}).build();
            double before = m.score(b).value(0, 0);
            x1[0] = 5;
            double after = m.score(b).value(0, 0);
            assertNotEquals(before, after);
            assertEquals(m.score(Batch.builder().addDoubles("x1", new double[] {5, 2})
                    .addLongs("x2", new long[] {0, 0}).build()).value(0, 0), after);
        }
    }
}
