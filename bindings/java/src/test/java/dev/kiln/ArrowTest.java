package dev.kiln;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
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
import org.junit.jupiter.api.Test;

/** The Arrow C Data door gives exactly what the array door gives, and leaks nothing. */
class ArrowTest {
    private static Float8Vector doubles(String name, double[] v, BufferAllocator a) {
        Float8Vector vec = new Float8Vector(name, a);
        vec.allocateNew(v.length);
        for (int i = 0; i < v.length; i++) {
            if (Double.isNaN(v[i])) {
                vec.setNull(i);
            } else {
                vec.set(i, v[i]);
            }
        }
        vec.setValueCount(v.length);
        return vec;
    }

    private static VarCharVector strings(String name, String[] v, BufferAllocator a) {
        VarCharVector vec = new VarCharVector(name, a);
        vec.allocateNew(v.length);
        for (int i = 0; i < v.length; i++) {
            if (v[i] == null) {
                vec.setNull(i);
            } else {
                vec.setSafe(i, v[i].getBytes(StandardCharsets.UTF_8));
            }
        }
        vec.setValueCount(v.length);
        return vec;
    }

    private static DateDayVector dates(String name, int[] v, BufferAllocator a) {
        DateDayVector vec = new DateDayVector(name, a);
        vec.allocateNew(v.length);
        for (int i = 0; i < v.length; i++) {
            vec.set(i, v[i]);
        }
        vec.setValueCount(v.length);
        return vec;
    }

    @Test
    void vectorSchemaRootScoresLikeArrays() {
        int n = 2000;
        Fixtures.LinearColumns c = new Fixtures.LinearColumns(n, 9);
        try (BufferAllocator allocator = new RootAllocator();
                KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            ScoreResult expected = m.score(c.batch());
            List<FieldVector> vectors = List.of(dates("signup", c.signupDays, allocator),
                    strings("province", c.province, allocator), doubles("income", c.income, allocator),
                    doubles("age", c.age, allocator));
            try (VectorSchemaRoot root = new VectorSchemaRoot(vectors)) {
                root.setRowCount(n);
                for (int round = 0; round < 3; round++) {
                    ScoreResult actual = KilnArrow.score(m, root, allocator);
                    Fixtures.assertBitsEqual(expected.outputs(), actual.outputs(), "arrow vs arrays, round " + round);
                    assertArrayEquals(expected.status(), actual.status());
                    assertEquals(expected.reason(0), actual.reason(0));
                }
                // kiln released what the export retained: only the root's own buffers remain.
                long held = allocator.getAllocatedMemory();
                ScoreResult again = KilnArrow.score(m, root, null, allocator, ScoreOptions.DEFAULT.withThreads(2));
                Fixtures.assertBitsEqual(expected.outputs(), again.outputs(), "arrow, 2 threads");
                assertEquals(held, allocator.getAllocatedMemory());
            }
            assertEquals(0, allocator.getAllocatedMemory(), "every Arrow buffer came back");
        }
    }

    @Test
    void dictionaryEncodedCategoriesScoreLikeStrings() {
        String[] dictValues = {"BARCELONA", "MADRID", "SEVILLA"};
        int[] codes = {1, 0, 2, 1, -1};
        String[] plain = {"MADRID", "BARCELONA", "SEVILLA", "MADRID", null};
        double[] age = {20, 30, 40, 50, 60};
        double[] income = {1, 10, 100, 1000, 10000};
        int[] signup = {17000, 17500, 18000, 18500, 19000};
        try (BufferAllocator allocator = new RootAllocator();
                KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            ScoreResult expected = m.score(Batch.builder().addDoubles("age", age).addDoubles("income", income)
                    .addStrings("province", plain).addDates("signup", signup, null).build());
            DictionaryEncoding enc = new DictionaryEncoding(1L, false, new ArrowType.Int(32, true));
            try (VarCharVector dictVector = strings("province_dict", dictValues, allocator)) {
                DictionaryProvider.MapDictionaryProvider provider = new DictionaryProvider.MapDictionaryProvider();
                provider.put(new Dictionary(dictVector, enc));
                IntVector province = new IntVector("province",
                        new FieldType(true, new ArrowType.Int(32, true), enc), allocator);
                province.allocateNew(codes.length);
                for (int i = 0; i < codes.length; i++) {
                    if (codes[i] < 0) {
                        province.setNull(i);
                    } else {
                        province.set(i, codes[i]);
                    }
                }
                province.setValueCount(codes.length);
                try (VectorSchemaRoot root = new VectorSchemaRoot(List.of(doubles("age", age, allocator),
                        doubles("income", income, allocator), province, dates("signup", signup, allocator)))) {
                    root.setRowCount(codes.length);
                    ScoreResult actual = KilnArrow.score(m, root, provider, allocator, ScoreOptions.DEFAULT);
                    Fixtures.assertBitsEqual(expected.outputs(), actual.outputs(), "dictionary vs strings");
                    assertArrayEquals(expected.status(), actual.status());
                }
            }
            assertEquals(0, allocator.getAllocatedMemory());
        }
    }

    @Test
    void arrowErrorsAreKilnExceptionsAndReleaseTheExport() {
        try (BufferAllocator allocator = new RootAllocator();
                KilnModel m = KilnModel.load(Fixtures.bytes("linear.kiln"))) {
            try (VectorSchemaRoot root = new VectorSchemaRoot(List.of(doubles("age", new double[] {1, 2}, allocator)))) {
                root.setRowCount(2);
                KilnException e = assertThrows(KilnException.class, () -> KilnArrow.score(m, root, allocator));
                assertEquals(KilnStatus.MISSING_COLUMN, e.status());
            }
            try (VectorSchemaRoot root = new VectorSchemaRoot(List.of(strings("age", new String[] {"a"}, allocator),
                    doubles("income", new double[] {1}, allocator), strings("province", new String[] {"MADRID"}, allocator),
                    dates("signup", new int[] {1}, allocator)))) {
                root.setRowCount(1);
                KilnException e = assertThrows(KilnException.class, () -> KilnArrow.score(m, root, allocator));
                assertEquals(KilnStatus.COLUMN_TYPE, e.status());
            }
            assertEquals(0, allocator.getAllocatedMemory(), "a refused batch still releases the export");
        }
    }
}
