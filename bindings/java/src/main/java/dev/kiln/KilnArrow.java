package dev.kiln;

import org.apache.arrow.c.ArrowArray;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;

/**
 * Scores Arrow Java record batches through the Arrow C Data Interface: the root is exported
 * zero-copy ({@link Data#exportVectorSchemaRoot}) and the exported {@code ArrowArray} /
 * {@code ArrowSchema} structs are handed to kiln's {@code kiln_batch_from_arrow} by address.
 * kiln reads the vectors' buffers in place and releases its reference when the call returns; the
 * root stays the caller's, open and unchanged.
 *
 * <p>Kept apart from {@link KilnModel} so that hosts that never use Arrow need no Arrow jars
 * (the Arrow dependencies of this artifact are optional). Needs {@code arrow-c-data} and an
 * Arrow memory implementation (e.g. {@code arrow-memory-unsafe} or {@code arrow-memory-netty})
 * on the class path.
 */
public final class KilnArrow {
    private KilnArrow() {}

    public static ScoreResult score(KilnModel model, VectorSchemaRoot root, BufferAllocator allocator) {
        return score(model, root, null, allocator, ScoreOptions.DEFAULT);
    }

    /**
     * Scores {@code root}; {@code dictionaries} (nullable) resolves dictionary-encoded
     * (categorical) vectors; {@code allocator} holds the two small C structs for the call.
     */
    public static ScoreResult score(KilnModel model, VectorSchemaRoot root, DictionaryProvider dictionaries,
            BufferAllocator allocator, ScoreOptions options) {
        if (model == null || root == null || allocator == null) {
            throw new KilnException(KilnStatus.NULL_ARGUMENT, "model, root and allocator must not be null");
        }
        try (ArrowArray array = ArrowArray.allocateNew(allocator);
                ArrowSchema schema = ArrowSchema.allocateNew(allocator)) {
            Data.exportVectorSchemaRoot(allocator, root, dictionaries, array, schema);
            try {
                return model.scoreArrow(array.memoryAddress(), schema.memoryAddress(), root.getRowCount(), options);
            } finally {
                // kiln moves the array into its batch (and marks this struct released) once it
                // accepts it; if it refused earlier, the export is still ours to release. The
                // schema is only read by kiln, so it is always ours. release() is a no-op on a
                // struct already marked released.
                array.release();
                schema.release();
            }
        }
    }
}
