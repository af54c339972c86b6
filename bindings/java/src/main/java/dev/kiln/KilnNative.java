package dev.kiln;

import java.nio.charset.StandardCharsets;

/**
 * The JNI entry points of {@code libkiln_jni.so} (src/main/c/kiln_jni.c), one per C ABI function
 * the binding needs, plus the two scoring calls that build a batch, score it and free it in one
 * crossing.
 *
 * <p>Conventions: every fallible entry returns the kiln status number and writes results into
 * one-element out arrays, which are untouched on failure; {@link #checkCall} is the one place a
 * non-zero status becomes a {@link KilnException}. Strings cross as UTF-8 byte arrays (in:
 * NUL-terminated) rather than through {@code NewStringUTF}, whose "modified UTF-8" differs from
 * UTF-8 for NUL and characters beyond the BMP.
 */
final class KilnNative {
    /** ABI versions this binding knows how to call. */
    static final int[] KNOWN_ABI_VERSIONS = {1};

    private KilnNative() {}

    /** Why the library could not be used, or {@code null} once it loaded and its ABI was accepted. */
    private static final LoadFailure LOAD_ERROR = loadAndCheck();

    record LoadFailure(KilnStatus status, String message) {}

    private static LoadFailure loadAndCheck() {
        try {
            NativeLoader.load();
        } catch (IllegalStateException e) {
            return new LoadFailure(KilnStatus.IO, e.getMessage());
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return new LoadFailure(KilnStatus.IO, "loading the kiln JNI library failed: " + e);
        }
        return checkAbi(abiVersion(), headerAbiVersion());
    }

    /**
     * Accepts the library's ABI version {@code abi} only if this binding knows it and the shim
     * was compiled against the same version ({@code headerAbi}); otherwise says why not.
     */
    static LoadFailure checkAbi(int abi, int headerAbi) {
        boolean known = false;
        for (int v : KNOWN_ABI_VERSIONS) {
            known |= v == abi;
        }
        if (!known) {
            return new LoadFailure(KilnStatus.ABI_MISMATCH, "the native kiln library speaks C ABI version " + abi
                    + ", this binding knows only " + java.util.Arrays.toString(KNOWN_ABI_VERSIONS)
                    + "; use the kiln jar that matches the library");
        }
        if (abi != headerAbi) {
            return new LoadFailure(KilnStatus.ABI_MISMATCH, "the JNI shim was compiled against kiln.h of ABI version "
                    + headerAbi + " but the library it loaded speaks " + abi + "; rebuild the shim");
        }
        return null;
    }

    /**
     * Loads the library and checks its ABI on first use; afterwards throws the same failure
     * (as a fresh {@link KilnException}) on every call if that went wrong, rather than an
     * {@code ExceptionInInitializerError} once and {@code NoClassDefFoundError}s after.
     */
    static void ensureLoaded() {
        if (LOAD_ERROR != null) {
            throw new KilnException(LOAD_ERROR.status(), LOAD_ERROR.message());
        }
    }

    /**
     * Throws a {@link KilnException} for a non-zero status, with the message kiln wrote for the
     * failure on this thread. The shim copies that message before it makes any other kiln call,
     * so cleanup after a failure cannot overwrite it.
     */
    static void checkCall(int status) {
        if (status != 0) {
            throw new KilnException(KilnStatus.of(status), status, utf8(lastError()));
        }
    }

    static String utf8(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** UTF-8 with a terminating NUL, for C; {@code null} stays {@code null}. */
    static byte[] cString(String s) {
        if (s == null) {
            return null;
        }
        if (s.indexOf('\0') >= 0) {
            throw new KilnException(KilnStatus.INVALID_ARGUMENT, "a string passed to kiln contains a NUL character: "
                    + s.replace('\0', '?'));
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, out, 0, utf8.length);
        return out;
    }

    // Versions and messages
    static native int abiVersion();

    /** The ABI version the shim was compiled against ({@code KILN_ABI_VERSION} in kiln.h). */
    static native int headerAbiVersion();

    static native byte[] version();

    /** This thread's copy of the message of the last failed call through the shim. */
    static native byte[] lastError();

    static native byte[] statusName(int status);

    static native byte[] rowStatusName(int code);

    static native byte[] rowStatusDescription(int code);

    // Models
    static native int modelLoad(byte[] path, byte[] expectFingerprint, long[] out);

    static native int modelLoadBytes(byte[] data, byte[] expectFingerprint, long[] out);

    static native void modelFree(long model);

    static native int modelFingerprint(long model, byte[][] out);

    static native int modelNumOutputs(long model, long[] out);

    static native int modelOutputName(long model, long i, byte[][] out);

    static native int modelNumInputs(long model, long[] out);

    static native int modelInput(long model, long i, byte[][] name, int[] columnType);

    static native int modelInfoJson(long model, byte[][] out);

    static native int modelReasonSource(long model, int reason, byte[][] out);

    // Scoring

    /**
     * Builds a raw-door batch over the given columns, scores it and frees it. Per column {@code c}:
     * {@code names[c]} (NUL-terminated UTF-8), {@code kinds[c]} (a physical type code, or
     * {@link Batch#KIND_UTF8}), {@code data[c]} (a primitive array or a direct buffer, read from
     * byte {@code dataOffsets[c]}; for strings the UTF-8 bytes, {@code dataLens[c]} of them),
     * {@code offsets[c]} (strings only: n+1 int offsets, array or direct buffer from
     * {@code offsetsOffsets[c]}), {@code masks[c]} (null, or a byte-per-row null mask, non-zero
     * = null: a {@code boolean[]} or direct buffer from {@code maskOffsets[c]}).
     * Outputs: {@code outs[j][i]} output j of row i; {@code status},
     * {@code reason} (nullable) per row; {@code report[0]} the report JSON when {@code report}
     * is non-null.
     */
    static native int scoreColumns(long model, long nRows, byte[][] names, int[] kinds, Object[] data,
            long[] dataOffsets, long[] dataLens, Object[] offsets, long[] offsetsOffsets, Object[] masks,
            long[] maskOffsets, int nThreads, double[][] outs, int[] status, int[] reason,
            byte[][] report);

    /**
     * Moves an exported Arrow C Data Interface struct array ({@code struct ArrowArray*} at
     * {@code arrayAddress}, described by the {@code struct ArrowSchema*} at
     * {@code schemaAddress}) into a kiln batch, scores it and frees it (which calls the array's
     * release callback). Outputs as in {@link #scoreColumns}.
     */
    static native int scoreArrow(long model, long arrayAddress, long schemaAddress, long nRows, int nThreads,
            double[][] outs, int[] status, int[] reason, byte[][] report);
}
