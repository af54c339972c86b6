package dev.kiln;

/**
 * A kiln failure: the status code plus the message kiln wrote for it, which names what is wrong
 * and where (a column, a file, a buffer). Unchecked, because every kiln call can fail the same
 * few ways and callers mostly let it propagate to the task or request that made the call.
 */
public final class KilnException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final KilnStatus status;
    private final int code;

    public KilnException(KilnStatus status, String message) {
        this(status, status.code(), message);
    }

    KilnException(KilnStatus status, int code, String message) {
        super(status.stableName() + " (" + code + "): " + message);
        this.status = status;
        this.code = code;
    }

    /** The status; {@link KilnStatus#INTERNAL} for a code this binding does not know. */
    public KilnStatus status() {
        return status;
    }

    /** The raw status number as the native library returned it. */
    public int code() {
        return code;
    }
}
