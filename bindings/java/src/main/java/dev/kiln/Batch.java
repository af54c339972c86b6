package dev.kiln;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Named input columns for {@link KilnModel#score}. Columns are matched to the model's inputs by
 * name, never by position; extra columns are ignored.
 *
 * <p>Memory: a batch keeps references to the arrays and buffers it was given, it does not copy
 * them when built. At scoring time
 * <ul>
 *   <li>a Java primitive array is handed to kiln through {@code Get<Type>ArrayElements} and
 *       released (without write-back) when the call returns. HotSpot implements that as a copy
 *       into native memory, one memcpy per column per call; pinning without a copy
 *       ({@code GetPrimitiveArrayCritical}) would stall the garbage collector of every other
 *       thread for the whole scoring call, which a service scoring from many threads cannot
 *       afford.</li>
 *   <li>a direct {@link ByteBuffer} ({@link Builder#addBuffer}) is read in place, zero-copy,
 *       from its current position. It must hold the values in native byte order (little-endian
 *       on x86-64) and its address must be aligned to the value width.</li>
 *   <li>strings ({@link Builder#addStrings}) are encoded to UTF-8 once, when added.</li>
 * </ul>
 * Arrays and buffers must not change while a call that reads them runs. A batch is immutable
 * and may be scored from several threads at once.
 */
public final class Batch {
    /** Column kind for UTF-8 strings (offsets + bytes); other kinds are {@link PhysicalType} codes. */
    static final int KIND_UTF8 = 100;

    final long rows;
    final List<String> columnNames;
    final byte[][] names;
    final int[] kinds;
    final Object[] data;
    final long[] dataOffsets;
    final long[] dataLens;
    final Object[] offsets;
    final long[] offsetsOffsets;
    final Object[] masks;
    final long[] maskOffsets;

    private Batch(Builder b) {
        int n = b.columns.size();
        rows = b.rows < 0 ? 0 : b.rows;
        names = new byte[n][];
        kinds = new int[n];
        data = new Object[n];
        dataOffsets = new long[n];
        dataLens = new long[n];
        offsets = new Object[n];
        offsetsOffsets = new long[n];
        masks = new Object[n];
        maskOffsets = new long[n];
        List<String> cols = new ArrayList<>(n);
        for (int c = 0; c < n; c++) {
            Column col = b.columns.get(c);
            cols.add(col.name);
            names[c] = KilnNative.cString(col.name);
            kinds[c] = col.kind;
            data[c] = col.data;
            dataOffsets[c] = col.dataOffset;
            dataLens[c] = col.dataLen;
            offsets[c] = col.offsets;
            offsetsOffsets[c] = col.offsetsOffset;
            masks[c] = col.mask;
            maskOffsets[c] = col.maskOffset;
        }
        columnNames = Collections.unmodifiableList(cols);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Number of rows. */
    public long rows() {
        return rows;
    }

    /** Column names in the order they were added. */
    public List<String> columnNames() {
        return columnNames;
    }

    private static final class Column {
        String name;
        int kind;
        Object data;
        long dataOffset;
        long dataLen;
        Object offsets;
        long offsetsOffset;
        Object mask;
        long maskOffset;
    }

    /**
     * Collects columns. Every column must have the same number of rows: the first column sets
     * it unless {@link #rows(long)} did. Each {@code nulls} argument is optional: {@code true}
     * marks a null row. In float columns NaN is a null as well.
     */
    public static final class Builder {
        private final List<Column> columns = new ArrayList<>();
        private final Set<String> seen = new HashSet<>();
        private long rows = -1;

        private Builder() {}

        /** Fixes the number of rows (needed before a direct buffer is the first column). */
        public Builder rows(long n) {
            if (n < 0) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, "rows must be >= 0, got " + n);
            }
            if (rows >= 0 && rows != n) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, "rows(" + n + ") contradicts the "
                        + rows + " rows of the columns added so far");
            }
            rows = n;
            return this;
        }

        public Builder addDoubles(String name, double[] values) {
            return addDoubles(name, values, null);
        }

        public Builder addDoubles(String name, double[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.F64, values, values == null ? 0 : values.length, nulls);
        }

        public Builder addFloats(String name, float[] values) {
            return addFloats(name, values, null);
        }

        public Builder addFloats(String name, float[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.F32, values, values == null ? 0 : values.length, nulls);
        }

        public Builder addLongs(String name, long[] values) {
            return addLongs(name, values, null);
        }

        public Builder addLongs(String name, long[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.I64, values, values == null ? 0 : values.length, nulls);
        }

        public Builder addInts(String name, int[] values) {
            return addInts(name, values, null);
        }

        public Builder addInts(String name, int[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.I32, values, values == null ? 0 : values.length, nulls);
        }

        public Builder addShorts(String name, short[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.I16, values, values == null ? 0 : values.length, nulls);
        }

        /** Signed bytes (int8). */
        public Builder addBytes(String name, byte[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.I8, values, values == null ? 0 : values.length, nulls);
        }

        public Builder addBooleans(String name, boolean[] values) {
            return addBooleans(name, values, null);
        }

        public Builder addBooleans(String name, boolean[] values, boolean[] nulls) {
            return addArray(name, PhysicalType.BOOL8, values, values == null ? 0 : values.length, nulls);
        }

        /** Dates as days since 1970-01-01. */
        public Builder addDates(String name, int[] daysSinceEpoch, boolean[] nulls) {
            return addArray(name, PhysicalType.DATE32, daysSinceEpoch,
                    daysSinceEpoch == null ? 0 : daysSinceEpoch.length, nulls);
        }

        /** Dates; a {@code null} element is a null row. Converted to days since the epoch (a copy). */
        public Builder addDates(String name, LocalDate[] dates) {
            if (dates == null) {
                throw nullData(name);
            }
            int[] days = new int[dates.length];
            boolean[] nulls = null;
            for (int i = 0; i < dates.length; i++) {
                if (dates[i] == null) {
                    if (nulls == null) {
                        nulls = new boolean[dates.length];
                    }
                    nulls[i] = true;
                } else {
                    days[i] = Math.toIntExact(dates[i].toEpochDay());
                }
            }
            return addDates(name, days, nulls);
        }

        /** Timestamps as microseconds since 1970-01-01T00:00Z. */
        public Builder addTimestampsMicros(String name, long[] micros, boolean[] nulls) {
            return addArray(name, PhysicalType.TIMESTAMP_US, micros, micros == null ? 0 : micros.length, nulls);
        }

        /**
         * Strings (categorical inputs); a {@code null} element is a null row. Encoded to UTF-8
         * (offsets + bytes) now, once, so scoring the batch again costs no encoding.
         */
        public Builder addStrings(String name, String[] values) {
            if (values == null) {
                throw nullData(name);
            }
            checkRows(name, values.length);
            int[] offs = new int[values.length + 1];
            byte[][] encoded = new byte[values.length][];
            boolean[] nulls = null;
            long total = 0;
            for (int i = 0; i < values.length; i++) {
                if (values[i] == null) {
                    if (nulls == null) {
                        nulls = new boolean[values.length];
                    }
                    nulls[i] = true;
                    encoded[i] = new byte[0];
                } else {
                    encoded[i] = values[i].getBytes(StandardCharsets.UTF_8);
                }
                total += encoded[i].length;
                if (total > Integer.MAX_VALUE) {
                    throw new KilnException(KilnStatus.INVALID_ARGUMENT, "column '" + name
                            + "': more than 2 GiB of UTF-8 in one column; split the batch");
                }
                offs[i + 1] = (int) total;
            }
            byte[] bytes = new byte[(int) total];
            for (int i = 0; i < values.length; i++) {
                System.arraycopy(encoded[i], 0, bytes, offs[i], encoded[i].length);
            }
            Column c = newColumn(name, KIND_UTF8);
            c.data = bytes;
            c.dataLen = bytes.length;
            c.offsets = offs;
            c.mask = nulls;
            columns.add(c);
            return this;
        }

        public Builder addDoubleColumns(String[] names, double[][] columns) {
            checkParallel(names, columns);
            for (int c = 0; c < names.length; c++) {
                addDoubles(names[c], columns[c]);
            }
            return this;
        }

        public Builder addFloatColumns(String[] names, float[][] columns) {
            checkParallel(names, columns);
            for (int c = 0; c < names.length; c++) {
                addFloats(names[c], columns[c]);
            }
            return this;
        }

        public Builder addLongColumns(String[] names, long[][] columns) {
            checkParallel(names, columns);
            for (int c = 0; c < names.length; c++) {
                addLongs(names[c], columns[c]);
            }
            return this;
        }

        public Builder addIntColumns(String[] names, int[][] columns) {
            checkParallel(names, columns);
            for (int c = 0; c < names.length; c++) {
                addInts(names[c], columns[c]);
            }
            return this;
        }

        public Builder addStringColumns(String[] names, String[][] columns) {
            checkParallel(names, columns);
            for (int c = 0; c < names.length; c++) {
                addStrings(names[c], columns[c]);
            }
            return this;
        }

        /** A column read in place from a direct buffer (zero-copy); see the class comment. */
        public Builder addBuffer(String name, PhysicalType type, ByteBuffer data) {
            return addBuffer(name, type, data, null);
        }

        /**
         * A column read in place from a direct buffer, from its position on: {@code rows} values
         * of {@code type} in native byte order. {@code nullMask} (optional, direct) holds one byte
         * per row from its position, non-zero = null.
         */
        public Builder addBuffer(String name, PhysicalType type, ByteBuffer data, ByteBuffer nullMask) {
            Objects.requireNonNull(type, "type");
            checkDirect(name, "data", data);
            long n = rowsForBuffer(name, data.remaining(), type.byteWidth());
            checkRemaining(name, "data", data, n * type.byteWidth(), n + " rows of " + type);
            Column c = newColumn(name, type.code());
            c.data = data;
            c.dataOffset = data.position();
            c.dataLen = n;
            if (nullMask != null) {
                checkDirect(name, "null mask", nullMask);
                checkRemaining(name, "null mask", nullMask, n, n + " rows (one byte each)");
                c.mask = nullMask;
                c.maskOffset = nullMask.position();
            }
            columns.add(c);
            return this;
        }

        /**
         * Strings read in place from direct buffers (zero-copy): {@code rows + 1} native-order
         * int32 {@code offsets} into the UTF-8 {@code data}, Arrow's utf8 layout. kiln checks the
         * offsets are monotonic and in bounds and the bytes are UTF-8.
         */
        public Builder addUtf8Buffers(String name, ByteBuffer offsets, ByteBuffer data, ByteBuffer nullMask) {
            checkDirect(name, "offsets", offsets);
            checkDirect(name, "data", data);
            long n = rowsForBuffer(name, Math.max(0, offsets.remaining() - 4), 4);
            checkRemaining(name, "offsets", offsets, (n + 1) * 4, (n + 1) + " int32 offsets");
            Column c = newColumn(name, KIND_UTF8);
            c.data = data;
            c.dataOffset = data.position();
            c.dataLen = data.remaining();
            c.offsets = offsets;
            c.offsetsOffset = offsets.position();
            if (nullMask != null) {
                checkDirect(name, "null mask", nullMask);
                checkRemaining(name, "null mask", nullMask, n, n + " rows (one byte each)");
                c.mask = nullMask;
                c.maskOffset = nullMask.position();
            }
            columns.add(c);
            return this;
        }

        public Batch build() {
            return new Batch(this);
        }

        private Builder addArray(String name, PhysicalType type, Object values, int length, boolean[] nulls) {
            if (values == null) {
                throw nullData(name);
            }
            checkRows(name, length);
            Column c = newColumn(name, type.code());
            c.data = values;
            c.dataLen = length;
            if (nulls != null) {
                if (nulls.length != length) {
                    throw new KilnException(KilnStatus.INVALID_ARGUMENT, "column '" + name + "': nulls has "
                            + nulls.length + " entries for " + length + " values");
                }
                c.mask = nulls;
            }
            columns.add(c);
            return this;
        }

        private Column newColumn(String name, int kind) {
            if (name == null) {
                throw new KilnException(KilnStatus.NULL_ARGUMENT, "a column name is null");
            }
            if (!seen.add(name)) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, "column '" + name + "' was added twice");
            }
            Column c = new Column();
            c.name = name;
            c.kind = kind;
            return c;
        }

        private void checkRows(String name, long n) {
            if (rows < 0) {
                rows = n;
            } else if (rows != n) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, "column '" + name + "' has " + n
                        + " rows, the batch has " + rows);
            }
        }

        private long rowsForBuffer(String name, long remainingBytes, int width) {
            if (rows < 0) {
                if (remainingBytes % width != 0) {
                    throw new KilnException(KilnStatus.BAD_BUFFER, "column '" + name + "': " + remainingBytes
                            + " bytes remaining is not a whole number of " + width + "-byte values; call rows(n) first");
                }
                rows = remainingBytes / width;
            }
            return rows;
        }

        private static void checkDirect(String name, String what, ByteBuffer b) {
            if (b == null) {
                throw new KilnException(KilnStatus.NULL_ARGUMENT, "column '" + name + "': " + what + " buffer is null");
            }
            if (!b.isDirect()) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, "column '" + name + "': " + what
                        + " buffer is a heap buffer; zero-copy needs ByteBuffer.allocateDirect (or use the add* array methods)");
            }
        }

        private static void checkRemaining(String name, String what, ByteBuffer b, long needBytes, String need) {
            if (b.remaining() < needBytes) {
                throw new KilnException(KilnStatus.BUFFER_TOO_SMALL, "column '" + name + "': " + what + " buffer has "
                        + b.remaining() + " bytes remaining, " + need + " need " + needBytes);
            }
        }

        private static KilnException nullData(String name) {
            return new KilnException(KilnStatus.NULL_ARGUMENT, "column '" + name + "': values are null");
        }

        private static void checkParallel(String[] names, Object[] columns) {
            if (names == null || columns == null) {
                throw new KilnException(KilnStatus.NULL_ARGUMENT, "names and columns must not be null");
            }
            if (names.length != columns.length) {
                throw new KilnException(KilnStatus.INVALID_ARGUMENT, names.length + " names for " + columns.length
                        + " columns");
            }
        }
    }
}
