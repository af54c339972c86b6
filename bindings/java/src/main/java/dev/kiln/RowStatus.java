package dev.kiln;

/** Per-row outcome of scoring ({@code KilnRowStatus}; numbers fixed by the ABI). */
public enum RowStatus {
    /** Scored. */
    OK(0, "ok"),
    /** A null value in a column whose policy flags nulls. */
    NULL(1, "null"),
    /** A category the model was not fitted on. */
    UNKNOWN_CATEGORY(2, "unknown_category"),
    /** A value outside the column's trained range. */
    OUT_OF_RANGE(3, "out_of_range"),
    /** An infinite value. */
    NON_FINITE(4, "non_finite"),
    /** A transform could not be applied to the value (e.g. log of a negative number). */
    DOMAIN_ERROR(5, "domain_error"),
    /** The model produced no score for the row. */
    NO_SCORE(6, "no_score");

    private final int code;
    private final String stableName;

    RowStatus(int code, String stableName) {
        this.code = code;
        this.stableName = stableName;
    }

    public int code() {
        return code;
    }

    /** kiln's short stable name, e.g. {@code "unknown_category"}. */
    public String stableName() {
        return stableName;
    }

    /** The status with number {@code code}, or {@code null} for a code this binding does not know. */
    public static RowStatus ofCode(int code) {
        RowStatus[] all = values();
        return code >= 0 && code < all.length && all[code].code == code ? all[code] : null;
    }
}
