package dev.kiln;

/**
 * Logical type of a model input column ({@code KilnColumnType}; numbers fixed by the ABI). One
 * logical type accepts several physical types: a {@code FLOAT64} input may be fed doubles, floats,
 * longs or ints; a {@code CATEGORICAL} input takes strings.
 */
public enum ColumnType {
    FLOAT64(1),
    FLOAT32(2),
    INT64(3),
    INT32(4),
    BOOL(5),
    CATEGORICAL(6),
    /** A calendar date (days since 1970-01-01). */
    DATE(7),
    /** A point in time (UTC). */
    TIMESTAMP(8);

    private final int code;

    ColumnType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    static ColumnType of(int code) {
        for (ColumnType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new KilnException(KilnStatus.INTERNAL, "the native library reported column type " + code
                + ", which this binding does not know; upgrade the kiln jar");
    }
}
