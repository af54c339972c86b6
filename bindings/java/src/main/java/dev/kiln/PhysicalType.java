package dev.kiln;

/**
 * How values of a raw column lie in memory ({@code KilnPhysicalType}; numbers fixed by the ABI).
 * Needed only for {@link Batch.Builder#addBuffer}: the typed {@code add*} methods pick it from
 * the Java array type. Values are in the platform's native byte order (little-endian on x86-64),
 * whatever a {@link java.nio.ByteBuffer}'s {@code order()} says.
 */
public enum PhysicalType {
    F64(1, 8),
    F32(2, 4),
    I64(3, 8),
    I32(4, 4),
    I16(5, 2),
    I8(6, 1),
    U8(7, 1),
    /** One byte per value, 0 or 1 (Java's {@code boolean[]} layout). */
    BOOL8(8, 1),
    /** int32 days since 1970-01-01. */
    DATE32(9, 4),
    /** int64 microseconds since 1970-01-01 UTC. */
    TIMESTAMP_US(10, 8);

    private final int code;
    private final int byteWidth;

    PhysicalType(int code, int byteWidth) {
        this.code = code;
        this.byteWidth = byteWidth;
    }

    public int code() {
        return code;
    }

    /** Bytes per value; also the alignment kiln requires of the data's address. */
    public int byteWidth() {
        return byteWidth;
    }
}
