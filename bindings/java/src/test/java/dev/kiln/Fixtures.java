package dev.kiln;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.SplittableRandom;

/** Test artifacts (src/test/resources/dev/kiln) and deterministic inputs for them. */
final class Fixtures {
    private Fixtures() {}

    static byte[] bytes(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies a resource to a file under {@code dir} (load(Path) needs a real file). */
    static Path file(String name, Path dir) {
        try (InputStream in = Fixtures.class.getResourceAsStream(name)) {
            Path p = dir.resolve(name);
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String[] PROVINCES = {"MADRID", "BARCELONA", "SEVILLA", null};

    /** Columns for linear.kiln: a mix of nulls, an unknown category and a range of dates. */
    static final class LinearColumns {
        final double[] age;
        final double[] income;
        final String[] province;
        final int[] signupDays;

        LinearColumns(int n, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            age = new double[n];
            income = new double[n];
            province = new String[n];
            signupDays = new int[n];
            for (int i = 0; i < n; i++) {
                age[i] = 18 + r.nextDouble() * 60;
                income[i] = r.nextInt(10) == 0 ? Double.NaN : r.nextDouble() * 5000;
                province[i] = PROVINCES[r.nextInt(PROVINCES.length)];
                signupDays[i] = 16000 + r.nextInt(4000);
            }
        }

        Batch batch() {
            return Batch.builder()
                    .addDoubles("age", age)
                    .addDoubles("income", income)
                    .addStrings("province", province)
                    .addDates("signup", signupDays, null)
                    .build();
        }
    }

    /** Columns for trees.kiln. */
    static final class TreeColumns {
        final double[] x1;
        final double[] x2;
        final String[] color;

        TreeColumns(int n, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            String[] colors = {"red", "green", "blue"};
            x1 = new double[n];
            x2 = new double[n];
            color = new String[n];
            for (int i = 0; i < n; i++) {
                x1[i] = r.nextInt(20) == 0 ? Double.NaN : r.nextDouble();
                x2[i] = r.nextDouble() * 30 - 10;
                color[i] = colors[r.nextInt(colors.length)];
            }
        }

        Batch batch() {
            return Batch.builder().addDoubles("x1", x1).addDoubles("x2", x2).addStrings("color", color).build();
        }
    }

    /** Bitwise equality of two outputs; names the first differing row. */
    static void assertBitsEqual(double[][] expected, double[][] actual, String what) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": " + expected.length + " outputs vs " + actual.length);
        }
        for (int j = 0; j < expected.length; j++) {
            if (expected[j].length != actual[j].length) {
                throw new AssertionError(what + ": output " + j + " has " + actual[j].length + " rows, expected "
                        + expected[j].length);
            }
            for (int i = 0; i < expected[j].length; i++) {
                long a = Double.doubleToRawLongBits(expected[j][i]);
                long b = Double.doubleToRawLongBits(actual[j][i]);
                if (a != b) {
                    throw new AssertionError(what + ": output " + j + " row " + i + ": expected " + expected[j][i]
                            + " (0x" + Long.toHexString(a) + "), got " + actual[j][i] + " (0x" + Long.toHexString(b) + ")");
                }
            }
        }
    }
}
