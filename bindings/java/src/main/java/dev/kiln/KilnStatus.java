package dev.kiln;

/**
 * Result codes of the kiln C ABI ({@code KilnStatus} in {@code kiln.h}). The numbers are fixed
 * forever and a retired number is never reused, so they may be stored and compared across
 * versions.
 */
public enum KilnStatus {
    /** Success. */
    OK(0, "ok"),
    /** A required argument was null (or the model was already closed). */
    NULL_ARGUMENT(1, "null_argument"),
    /** An argument had an invalid value (bad name, unknown type code, ...). */
    INVALID_ARGUMENT(2, "invalid_argument"),
    /** A file could not be read. */
    IO(3, "io"),
    /** The artifact is not a well-formed kiln artifact. */
    MALFORMED_ARTIFACT(4, "malformed_artifact"),
    /** The artifact's format version is newer than this library reads. */
    UNSUPPORTED_VERSION(5, "unsupported_version"),
    /** The artifact is well-formed but its model or pipeline is structurally invalid. */
    INVALID_MODEL(6, "invalid_model"),
    /** The artifact's fingerprint differs from the pinned one, or from its content. */
    FINGERPRINT_MISMATCH(7, "fingerprint_mismatch"),
    /** A column the model needs is absent from the batch. */
    MISSING_COLUMN(8, "missing_column"),
    /** A batch column has a type the model cannot accept for that column. */
    COLUMN_TYPE(9, "column_type"),
    /** Host memory failed validation (lengths, offsets, alignment, dictionary codes). */
    BAD_BUFFER(10, "bad_buffer"),
    /** A buffer is smaller than the batch needs. */
    BUFFER_TOO_SMALL(11, "buffer_too_small"),
    /** The batch was rejected as a whole by a column policy. */
    BATCH_REJECTED(12, "batch_rejected"),
    /** A panic was caught inside kiln (a kiln bug; the model is still usable). */
    PANIC(13, "panic"),
    /** The native library speaks an ABI version this binding does not know. */
    ABI_MISMATCH(14, "abi_mismatch"),
    /** An unexpected internal failure (a kiln bug). */
    INTERNAL(99, "internal");

    private final int code;
    private final String stableName;

    KilnStatus(int code, String stableName) {
        this.code = code;
        this.stableName = stableName;
    }

    /** The fixed ABI number. */
    public int code() {
        return code;
    }

    /** The short stable name kiln uses for this status, e.g. {@code "missing_column"}. */
    public String stableName() {
        return stableName;
    }

    /**
     * The status with ABI number {@code code}; a number this binding does not know maps to
     * {@link #INTERNAL} (a newer library could add codes, and a binding must still raise).
     */
    public static KilnStatus of(int code) {
        for (KilnStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return INTERNAL;
    }
}
