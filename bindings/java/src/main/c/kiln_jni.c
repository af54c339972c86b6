/*
 * kiln_jni.c — the JNI shim between dev.kiln.KilnNative and the kiln C ABI.
 *
 * Uses only include/kiln.h. Each entry converts Java arguments, calls kiln, and returns the
 * kiln status; out-values go into one-element Java arrays, written only on success. On failure
 * the message is copied at once into a thread-local buffer (kiln's own pointer is only valid
 * until the next failing kiln call) and Java reads it through lastError() in its single
 * checkCall path. Errors the shim finds itself (a buffer too small for its rows, a misaligned
 * address) go through the same buffer with a kiln status number.
 *
 * Nothing here keeps state between calls but that message buffer and the class references
 * cached at load: no locks, so one model may be scored from any number of Java threads.
 */
#include <jni.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"
#include "dev_kiln_KilnNative.h"

/* Matches dev.kiln.Batch.KIND_UTF8; other kinds are KilnPhysicalType codes. */
#define KIND_UTF8 100

/* Status numbers the shim itself reports (the fixed numbers of KilnStatus). */
#define ST_OK 0
#define ST_NULL_ARGUMENT 1
#define ST_INVALID_ARGUMENT 2
#define ST_BAD_BUFFER 10
#define ST_BUFFER_TOO_SMALL 11
#define ST_INTERNAL 99

#define MESSAGE_CAPACITY 4096
static _Thread_local char last_message[MESSAGE_CAPACITY];

/* Records kiln's message for a failed call; must run before any other kiln call. */
static jint fail_kiln(int32_t status) {
    const char *m = kiln_last_error();
    snprintf(last_message, sizeof last_message, "%s", m ? m : "");
    return (jint)status;
}

/* Records a message for a failure the shim detected. */
static jint fail_shim(int32_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return (jint)status;
}

/* A Java exception (e.g. OutOfMemoryError) is pending: Java throws it as soon as the native
 * method returns, so the status only needs to be non-zero. */
static jint java_exception_pending(void) {
    snprintf(last_message, sizeof last_message, "a Java exception was raised inside the kiln JNI shim");
    return ST_INTERNAL;
}

/* Classes resolved once at load: IsInstanceOf guards every Get<Type>ArrayElements, because
 * calling one on an array of another type is undefined behaviour that would take the JVM
 * down, and a shim must never do that whatever the Java side passes. */
static jclass cls_buffer, cls_double_array, cls_float_array, cls_long_array, cls_int_array,
    cls_short_array, cls_byte_array, cls_boolean_array;

static jclass global_class(JNIEnv *env, const char *name) {
    jclass local = (*env)->FindClass(env, name);
    if (local == NULL) {
        return NULL;
    }
    jclass global = (jclass)(*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    return global;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) {
        return JNI_ERR;
    }
    if (!(cls_buffer = global_class(env, "java/nio/Buffer")) ||
        !(cls_double_array = global_class(env, "[D")) || !(cls_float_array = global_class(env, "[F")) ||
        !(cls_long_array = global_class(env, "[J")) || !(cls_int_array = global_class(env, "[I")) ||
        !(cls_short_array = global_class(env, "[S")) || !(cls_byte_array = global_class(env, "[B")) ||
        !(cls_boolean_array = global_class(env, "[Z"))) {
        return JNI_ERR;
    }
    return JNI_VERSION_1_8;
}

/* ---------------------------------------------------------------------------------------------
 * Host memory: a Java primitive array (copied in by Get<Type>ArrayElements, released without
 * write-back) or a direct buffer (read in place). */

enum elem { E_DOUBLE, E_FLOAT, E_LONG, E_INT, E_SHORT, E_BYTE, E_BOOLEAN };

static const char *const elem_java_name[] = {"double[]", "float[]", "long[]", "int[]", "short[]", "byte[]", "boolean[]"};
static const size_t elem_width[] = {8, 4, 8, 4, 2, 1, 1};

typedef struct {
    jarray array; /* non-NULL when elements must be released */
    void *elements;
    enum elem elem;
} pinned;

static jclass elem_class(enum elem e) {
    switch (e) {
    case E_DOUBLE: return cls_double_array;
    case E_FLOAT: return cls_float_array;
    case E_LONG: return cls_long_array;
    case E_INT: return cls_int_array;
    case E_SHORT: return cls_short_array;
    case E_BYTE: return cls_byte_array;
    default: return cls_boolean_array;
    }
}

static void *get_elements(JNIEnv *env, jarray a, enum elem e) {
    switch (e) {
    case E_DOUBLE: return (*env)->GetDoubleArrayElements(env, (jdoubleArray)a, NULL);
    case E_FLOAT: return (*env)->GetFloatArrayElements(env, (jfloatArray)a, NULL);
    case E_LONG: return (*env)->GetLongArrayElements(env, (jlongArray)a, NULL);
    case E_INT: return (*env)->GetIntArrayElements(env, (jintArray)a, NULL);
    case E_SHORT: return (*env)->GetShortArrayElements(env, (jshortArray)a, NULL);
    case E_BYTE: return (*env)->GetByteArrayElements(env, (jbyteArray)a, NULL);
    default: return (*env)->GetBooleanArrayElements(env, (jbooleanArray)a, NULL);
    }
}

static void release_pinned(JNIEnv *env, pinned *p) {
    if (p->array == NULL || p->elements == NULL) {
        return;
    }
    /* JNI_ABORT: kiln only reads inputs, so nothing is copied back. */
    switch (p->elem) {
    case E_DOUBLE: (*env)->ReleaseDoubleArrayElements(env, (jdoubleArray)p->array, p->elements, JNI_ABORT); break;
    case E_FLOAT: (*env)->ReleaseFloatArrayElements(env, (jfloatArray)p->array, p->elements, JNI_ABORT); break;
    case E_LONG: (*env)->ReleaseLongArrayElements(env, (jlongArray)p->array, p->elements, JNI_ABORT); break;
    case E_INT: (*env)->ReleaseIntArrayElements(env, (jintArray)p->array, p->elements, JNI_ABORT); break;
    case E_SHORT: (*env)->ReleaseShortArrayElements(env, (jshortArray)p->array, p->elements, JNI_ABORT); break;
    case E_BYTE: (*env)->ReleaseByteArrayElements(env, (jbyteArray)p->array, p->elements, JNI_ABORT); break;
    default: (*env)->ReleaseBooleanArrayElements(env, (jbooleanArray)p->array, p->elements, JNI_ABORT); break;
    }
    p->array = NULL;
    p->elements = NULL;
}

/*
 * Makes `count` values of `e` readable at *out: from a Java array of exactly that element type
 * holding at least `count` values, or from a direct buffer with `count * width` bytes from byte
 * `offset` on, at an address aligned to the width. `col` and `what` name the memory in errors.
 */
static jint acquire(JNIEnv *env, jobject obj, jlong offset, enum elem e, size_t count, const char *col,
                    const char *what, pinned *pin, const void **out) {
    size_t width = elem_width[e];
    if (obj == NULL) {
        return fail_shim(ST_NULL_ARGUMENT, "column '%s': %s is null", col, what);
    }
    if ((*env)->IsInstanceOf(env, obj, cls_buffer)) {
        uint8_t *base = (uint8_t *)(*env)->GetDirectBufferAddress(env, obj);
        jlong capacity = (*env)->GetDirectBufferCapacity(env, obj);
        if (base == NULL || capacity < 0) {
            return fail_shim(ST_INVALID_ARGUMENT, "column '%s': %s is not a direct buffer", col, what);
        }
        if (offset < 0 || offset > capacity || (uint64_t)(capacity - offset) / width < count) {
            return fail_shim(ST_BUFFER_TOO_SMALL,
                             "column '%s': %s buffer holds %lld bytes from position %lld, %zu values of %zu bytes need %llu",
                             col, what, (long long)(capacity - (offset < capacity ? offset : capacity)),
                             (long long)offset, count, width, (unsigned long long)count * width);
        }
        const uint8_t *p = base + offset;
        if (((uintptr_t)p) % width != 0) {
            return fail_shim(ST_BAD_BUFFER,
                             "column '%s': %s address %p is not aligned to %zu bytes; allocate the buffer with "
                             "ByteBuffer.allocateDirect and keep positions a multiple of %zu",
                             col, what, (const void *)p, width, width);
        }
        *out = p;
        return ST_OK;
    }
    if (!(*env)->IsInstanceOf(env, obj, elem_class(e))) {
        return fail_shim(ST_INVALID_ARGUMENT, "column '%s': %s must be a %s or a direct buffer", col, what,
                         elem_java_name[e]);
    }
    jsize length = (*env)->GetArrayLength(env, (jarray)obj);
    if ((size_t)length < count) {
        return fail_shim(ST_BUFFER_TOO_SMALL, "column '%s': %s has %d values, %zu are needed", col, what,
                         (int)length, count);
    }
    void *elements = get_elements(env, (jarray)obj, e);
    if (elements == NULL) {
        return java_exception_pending();
    }
    pin->array = (jarray)obj;
    pin->elements = elements;
    pin->elem = e;
    *out = elements;
    return ST_OK;
}

/* The Java element type that holds values of a KilnPhysicalType. */
static int physical_elem(jint kind, enum elem *e) {
    switch (kind) {
    case 1: *e = E_DOUBLE; return 1;           /* F64 */
    case 2: *e = E_FLOAT; return 1;            /* F32 */
    case 3: case 10: *e = E_LONG; return 1;    /* I64, TIMESTAMP_US */
    case 4: case 9: *e = E_INT; return 1;      /* I32, DATE32 */
    case 5: *e = E_SHORT; return 1;            /* I16 */
    case 6: case 7: *e = E_BYTE; return 1;     /* I8, U8 */
    case 8: *e = E_BOOLEAN; return 1;          /* BOOL8: jboolean is one byte, 0 or 1 */
    default: return 0;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Strings out: UTF-8 bytes for Java to decode (NewStringUTF takes "modified UTF-8"). */

static jbyteArray utf8_bytes(JNIEnv *env, const char *s) {
    if (s == NULL) {
        s = "";
    }
    jsize n = (jsize)strlen(s);
    jbyteArray a = (*env)->NewByteArray(env, n);
    if (a != NULL) {
        (*env)->SetByteArrayRegion(env, a, 0, n, (const jbyte *)s);
    }
    return a;
}

static jint put_string(JNIEnv *env, jobjectArray out, const char *s) {
    jbyteArray a = utf8_bytes(env, s);
    if (a == NULL) {
        return java_exception_pending();
    }
    (*env)->SetObjectArrayElement(env, out, 0, a);
    (*env)->DeleteLocalRef(env, a);
    return ST_OK;
}

static const KilnModel *model_of(jlong handle) {
    return (const KilnModel *)(intptr_t)handle;
}

/* ---------------------------------------------------------------------------------------------
 * Versions and messages */

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_abiVersion(JNIEnv *env, jclass cls) {
    (void)env, (void)cls;
    return (jint)kiln_abi_version();
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_headerAbiVersion(JNIEnv *env, jclass cls) {
    (void)env, (void)cls;
    return (jint)KILN_ABI_VERSION;
}

JNIEXPORT jbyteArray JNICALL Java_dev_kiln_KilnNative_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return utf8_bytes(env, kiln_version());
}

JNIEXPORT jbyteArray JNICALL Java_dev_kiln_KilnNative_lastError(JNIEnv *env, jclass cls) {
    (void)cls;
    return utf8_bytes(env, last_message);
}

JNIEXPORT jbyteArray JNICALL Java_dev_kiln_KilnNative_statusName(JNIEnv *env, jclass cls, jint status) {
    (void)cls;
    return utf8_bytes(env, kiln_status_name(status));
}

JNIEXPORT jbyteArray JNICALL Java_dev_kiln_KilnNative_rowStatusName(JNIEnv *env, jclass cls, jint code) {
    (void)cls;
    return utf8_bytes(env, kiln_row_status_name(code));
}

JNIEXPORT jbyteArray JNICALL Java_dev_kiln_KilnNative_rowStatusDescription(JNIEnv *env, jclass cls, jint code) {
    (void)cls;
    return utf8_bytes(env, kiln_row_status_description(code));
}

/* ---------------------------------------------------------------------------------------------
 * Models */

/* Java passes NUL-terminated UTF-8 (KilnNative.cString); NULL stays NULL. */
static jint c_string(JNIEnv *env, jbyteArray bytes, const char *what, pinned *pin, const char **out) {
    if (bytes == NULL) {
        *out = NULL;
        return ST_OK;
    }
    jsize n = (*env)->GetArrayLength(env, bytes);
    if (n == 0) {
        return fail_shim(ST_INVALID_ARGUMENT, "%s is not NUL-terminated", what);
    }
    jbyte *p = (*env)->GetByteArrayElements(env, bytes, NULL);
    if (p == NULL) {
        return java_exception_pending();
    }
    pin->array = bytes;
    pin->elements = p;
    pin->elem = E_BYTE;
    if (p[n - 1] != 0) {
        release_pinned(env, pin);
        return fail_shim(ST_INVALID_ARGUMENT, "%s is not NUL-terminated", what);
    }
    *out = (const char *)p;
    return ST_OK;
}

static jint put_model(JNIEnv *env, jlongArray out, const KilnModel *m) {
    jlong h = (jlong)(intptr_t)m;
    (*env)->SetLongArrayRegion(env, out, 0, 1, &h);
    return ST_OK;
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelLoad(JNIEnv *env, jclass cls, jbyteArray path,
                                                         jbyteArray expect, jlongArray out) {
    (void)cls;
    pinned pp = {0}, pe = {0};
    const char *p = NULL, *e = NULL;
    jint st = c_string(env, path, "path", &pp, &p);
    if (st == ST_OK) {
        st = c_string(env, expect, "expected fingerprint", &pe, &e);
    }
    const KilnModel *m = NULL;
    if (st == ST_OK) {
        int32_t ks = kiln_model_load(p, e, &m);
        st = ks == KILN_STATUS_OK ? ST_OK : fail_kiln(ks);
    }
    release_pinned(env, &pp);
    release_pinned(env, &pe);
    return st == ST_OK ? put_model(env, out, m) : st;
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelLoadBytes(JNIEnv *env, jclass cls, jbyteArray data,
                                                              jbyteArray expect, jlongArray out) {
    (void)cls;
    if (data == NULL) {
        return fail_shim(ST_NULL_ARGUMENT, "artifact bytes are null");
    }
    pinned pd = {0}, pe = {0};
    const char *e = NULL;
    const void *bytes = NULL;
    size_t len = (size_t)(*env)->GetArrayLength(env, data);
    jint st = acquire(env, data, 0, E_BYTE, len, "-", "artifact bytes", &pd, &bytes);
    if (st == ST_OK) {
        st = c_string(env, expect, "expected fingerprint", &pe, &e);
    }
    const KilnModel *m = NULL;
    if (st == ST_OK) {
        int32_t ks = kiln_model_load_bytes((const uint8_t *)bytes, len, e, &m);
        st = ks == KILN_STATUS_OK ? ST_OK : fail_kiln(ks);
    }
    release_pinned(env, &pd);
    release_pinned(env, &pe);
    return st == ST_OK ? put_model(env, out, m) : st;
}

JNIEXPORT void JNICALL Java_dev_kiln_KilnNative_modelFree(JNIEnv *env, jclass cls, jlong model) {
    (void)env, (void)cls;
    kiln_model_free(model_of(model));
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelFingerprint(JNIEnv *env, jclass cls, jlong model,
                                                                jobjectArray out) {
    (void)cls;
    const char *s = NULL;
    int32_t ks = kiln_model_fingerprint(model_of(model), &s);
    return ks == KILN_STATUS_OK ? put_string(env, out, s) : fail_kiln(ks);
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelNumOutputs(JNIEnv *env, jclass cls, jlong model, jlongArray out) {
    (void)cls;
    size_t n = 0;
    int32_t ks = kiln_model_num_outputs(model_of(model), &n);
    if (ks != KILN_STATUS_OK) {
        return fail_kiln(ks);
    }
    jlong v = (jlong)n;
    (*env)->SetLongArrayRegion(env, out, 0, 1, &v);
    return ST_OK;
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelOutputName(JNIEnv *env, jclass cls, jlong model, jlong i,
                                                               jobjectArray out) {
    (void)cls;
    const char *s = NULL;
    int32_t ks = kiln_model_output_name(model_of(model), (size_t)i, &s);
    return ks == KILN_STATUS_OK ? put_string(env, out, s) : fail_kiln(ks);
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelNumInputs(JNIEnv *env, jclass cls, jlong model, jlongArray out) {
    (void)cls;
    size_t n = 0;
    int32_t ks = kiln_model_num_inputs(model_of(model), &n);
    if (ks != KILN_STATUS_OK) {
        return fail_kiln(ks);
    }
    jlong v = (jlong)n;
    (*env)->SetLongArrayRegion(env, out, 0, 1, &v);
    return ST_OK;
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelInput(JNIEnv *env, jclass cls, jlong model, jlong i,
                                                          jobjectArray name, jintArray column_type) {
    (void)cls;
    const char *s = NULL;
    int32_t t = 0;
    int32_t ks = kiln_model_input(model_of(model), (size_t)i, &s, &t);
    if (ks != KILN_STATUS_OK) {
        return fail_kiln(ks);
    }
    jint tt = (jint)t;
    (*env)->SetIntArrayRegion(env, column_type, 0, 1, &tt);
    return put_string(env, name, s);
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelInfoJson(JNIEnv *env, jclass cls, jlong model, jobjectArray out) {
    (void)cls;
    const char *s = NULL;
    int32_t ks = kiln_model_info_json(model_of(model), &s);
    return ks == KILN_STATUS_OK ? put_string(env, out, s) : fail_kiln(ks);
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_modelReasonSource(JNIEnv *env, jclass cls, jlong model, jint reason,
                                                                 jobjectArray out) {
    (void)cls;
    const char *s = NULL;
    int32_t ks = kiln_model_reason_source(model_of(model), reason, &s);
    return ks == KILN_STATUS_OK ? put_string(env, out, s) : fail_kiln(ks);
}

/* ---------------------------------------------------------------------------------------------
 * Scoring */

/*
 * Scores `batch` into one native block (scores column-major, then status, then reason) and
 * copies it into the Java arrays: one copy per output array, instead of the two that
 * Get/Release<Type>ArrayElements on the outputs would cost.
 */
static jint score_batch(JNIEnv *env, jlong model, KilnBatch *batch, jlong n_rows, jint n_threads,
                        jobjectArray outs, jintArray status, jintArray reason, jobjectArray report) {
    size_t n = 0;
    int32_t ks = kiln_batch_num_rows(batch, &n);
    if (ks != KILN_STATUS_OK) {
        return fail_kiln(ks);
    }
    if ((jlong)n != n_rows) {
        return fail_shim(ST_INTERNAL, "the batch has %zu rows, the binding expected %lld", n, (long long)n_rows);
    }
    if (n_threads < 0) {
        return fail_shim(ST_INVALID_ARGUMENT, "threads must be >= 0, got %d", (int)n_threads);
    }
    if (outs == NULL || status == NULL) {
        return fail_shim(ST_NULL_ARGUMENT, "output arrays are null");
    }
    jsize k = (*env)->GetArrayLength(env, outs);
    if ((*env)->GetArrayLength(env, status) < (jsize)n ||
        (reason != NULL && (*env)->GetArrayLength(env, reason) < (jsize)n)) {
        return fail_shim(ST_BUFFER_TOO_SMALL, "status/reason arrays are shorter than the batch's %zu rows", n);
    }
    for (jsize j = 0; j < k; j++) {
        jarray o = (jarray)(*env)->GetObjectArrayElement(env, outs, j);
        jsize len = o == NULL ? -1 : (*env)->GetArrayLength(env, o);
        (*env)->DeleteLocalRef(env, o);
        if (len < (jsize)n) {
            return fail_shim(ST_BUFFER_TOO_SMALL, "output array %d is shorter than the batch's %zu rows", (int)j, n);
        }
    }
    size_t n_scores = n * (size_t)k;
    /* One allocation; +1 so that a zero-row batch still gets a non-NULL block. */
    size_t bytes = n_scores * sizeof(double) + 2 * n * sizeof(int32_t) + 1;
    double *block = (double *)malloc(bytes);
    if (block == NULL) {
        return fail_shim(ST_INTERNAL, "out of native memory for %zu rows x %d outputs", n, (int)k);
    }
    int32_t *st_buf = (int32_t *)(block + n_scores);
    int32_t *reason_buf = reason != NULL ? st_buf + n : NULL;
    KilnReport *rep = NULL;
    ks = kiln_model_score(model_of(model), batch, (uint32_t)n_threads, block, n_scores, st_buf, n, reason_buf,
                          reason_buf != NULL ? n : 0, report != NULL ? &rep : NULL);
    jint st = ST_OK;
    if (ks != KILN_STATUS_OK) {
        st = fail_kiln(ks);
    } else {
        for (jsize j = 0; j < k && st == ST_OK; j++) {
            jdoubleArray o = (jdoubleArray)(*env)->GetObjectArrayElement(env, outs, j);
            (*env)->SetDoubleArrayRegion(env, o, 0, (jsize)n, block + (size_t)j * n);
            (*env)->DeleteLocalRef(env, o);
        }
        (*env)->SetIntArrayRegion(env, status, 0, (jsize)n, (const jint *)st_buf);
        if (reason != NULL) {
            (*env)->SetIntArrayRegion(env, reason, 0, (jsize)n, (const jint *)reason_buf);
        }
        if (rep != NULL) {
            const char *json = NULL;
            ks = kiln_report_json(rep, &json);
            st = ks == KILN_STATUS_OK ? put_string(env, report, json) : fail_kiln(ks);
        }
    }
    kiln_report_free(rep);
    free(block);
    return st;
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_scoreColumns(
    JNIEnv *env, jclass cls, jlong model, jlong n_rows, jobjectArray names, jintArray kinds, jobjectArray data,
    jlongArray data_offsets, jlongArray data_lens, jobjectArray offsets, jlongArray offsets_offsets,
    jobjectArray masks, jlongArray mask_offsets, jint n_threads, jobjectArray outs, jintArray status,
    jintArray reason, jobjectArray report) {
    (void)cls;
    if (n_rows < 0) {
        return fail_shim(ST_INVALID_ARGUMENT, "rows must be >= 0, got %lld", (long long)n_rows);
    }
    if (names == NULL || kinds == NULL || data == NULL || data_offsets == NULL || data_lens == NULL ||
        offsets == NULL || offsets_offsets == NULL || masks == NULL || mask_offsets == NULL) {
        return fail_shim(ST_NULL_ARGUMENT, "a column description array is null");
    }
    size_t n = (size_t)n_rows;
    jsize ncols = (*env)->GetArrayLength(env, names);
    if ((*env)->GetArrayLength(env, kinds) != ncols || (*env)->GetArrayLength(env, data) != ncols ||
        (*env)->GetArrayLength(env, data_offsets) != ncols || (*env)->GetArrayLength(env, data_lens) != ncols ||
        (*env)->GetArrayLength(env, offsets) != ncols || (*env)->GetArrayLength(env, offsets_offsets) != ncols ||
        (*env)->GetArrayLength(env, masks) != ncols || (*env)->GetArrayLength(env, mask_offsets) != ncols) {
        return fail_shim(ST_INTERNAL, "column description arrays differ in length");
    }
    /* Small per-column metadata: copied out once. */
    jint *kind = NULL;
    jlong *meta = NULL;
    pinned *pins = NULL; /* per column: name, data, offsets, mask */
    KilnBatch *batch = NULL;
    jint st = ST_OK;
    kind = (jint *)malloc(sizeof(jint) * (size_t)ncols + 1);
    meta = (jlong *)malloc(sizeof(jlong) * 4 * (size_t)ncols + 1);
    pins = (pinned *)calloc(4 * (size_t)ncols + 1, sizeof(pinned));
    if (kind == NULL || meta == NULL || pins == NULL) {
        st = fail_shim(ST_INTERNAL, "out of native memory");
        goto done;
    }
    jlong *d_off = meta, *d_len = meta + ncols, *o_off = meta + 2 * ncols, *m_off = meta + 3 * ncols;
    (*env)->GetIntArrayRegion(env, kinds, 0, ncols, kind);
    (*env)->GetLongArrayRegion(env, data_offsets, 0, ncols, d_off);
    (*env)->GetLongArrayRegion(env, data_lens, 0, ncols, d_len);
    (*env)->GetLongArrayRegion(env, offsets_offsets, 0, ncols, o_off);
    (*env)->GetLongArrayRegion(env, mask_offsets, 0, ncols, m_off);

    /* Every pinned array keeps its local reference until the end of the call. */
    if ((*env)->EnsureLocalCapacity(env, 4 * ncols + 16) != 0) {
        st = java_exception_pending();
        goto done;
    }
    int32_t ks = kiln_batch_new(n, &batch);
    if (ks != KILN_STATUS_OK) {
        st = fail_kiln(ks);
        goto done;
    }
    for (jsize c = 0; c < ncols && st == ST_OK; c++) {
        pinned *pin = pins + 4 * (size_t)c;
        jobject name_obj = (*env)->GetObjectArrayElement(env, names, c);
        jobject d = (*env)->GetObjectArrayElement(env, data, c);
        jobject o = (*env)->GetObjectArrayElement(env, offsets, c);
        jobject m = (*env)->GetObjectArrayElement(env, masks, c);
        const char *name = NULL;
        st = c_string(env, (jbyteArray)name_obj, "column name", &pin[0], &name);
        if (st == ST_OK && name == NULL) {
            st = fail_shim(ST_NULL_ARGUMENT, "column %d has no name", (int)c);
        }
        const void *mask = NULL;
        if (st == ST_OK && m != NULL) {
            st = acquire(env, m, m_off[c], E_BOOLEAN, n, name, "null mask", &pin[3], &mask);
        }
        if (st == ST_OK && kind[c] == KIND_UTF8) {
            const void *offs = NULL, *bytes = NULL;
            size_t data_len = (size_t)d_len[c];
            st = acquire(env, o, o_off[c], E_INT, n + 1, name, "offsets", &pin[2], &offs);
            if (st == ST_OK) {
                st = acquire(env, d, d_off[c], E_BYTE, data_len, name, "string bytes", &pin[1], &bytes);
            }
            if (st == ST_OK) {
                ks = kiln_batch_add_utf8(batch, name, (const int32_t *)offs, (const uint8_t *)bytes, data_len, n,
                                         NULL, (const uint8_t *)mask);
                st = ks == KILN_STATUS_OK ? ST_OK : fail_kiln(ks);
            }
        } else if (st == ST_OK) {
            enum elem e;
            const void *values = NULL;
            if (!physical_elem(kind[c], &e)) {
                st = fail_shim(ST_INVALID_ARGUMENT, "column '%s': unknown column kind %d", name, (int)kind[c]);
            } else {
                st = acquire(env, d, d_off[c], e, n, name, "values", &pin[1], &values);
            }
            if (st == ST_OK) {
                ks = kiln_batch_add_column(batch, name, kind[c], values, n, NULL, (const uint8_t *)mask);
                st = ks == KILN_STATUS_OK ? ST_OK : fail_kiln(ks);
            }
        }
        /* References no pin holds (direct buffers, absent parts) are dropped now, so a wide
         * batch does not pile up local references. */
        jobject refs[4] = {name_obj, d, o, m};
        for (int i = 0; i < 4; i++) {
            if (refs[i] != NULL && pin[i].array == NULL) {
                (*env)->DeleteLocalRef(env, refs[i]);
            }
        }
    }
    if (st == ST_OK) {
        st = score_batch(env, model, batch, n_rows, n_threads, outs, status, reason, report);
    }
done:
    /* The batch borrows the pinned memory: free it before releasing anything. */
    kiln_batch_free(batch);
    if (pins != NULL) {
        for (size_t i = 0; i < 4 * (size_t)ncols; i++) {
            jarray a = pins[i].array;
            release_pinned(env, &pins[i]);
            if (a != NULL) {
                (*env)->DeleteLocalRef(env, a);
            }
        }
    }
    free(pins);
    free(meta);
    free(kind);
    return st;
}

JNIEXPORT jint JNICALL Java_dev_kiln_KilnNative_scoreArrow(JNIEnv *env, jclass cls, jlong model, jlong array_address,
                                                          jlong schema_address, jlong n_rows, jint n_threads,
                                                          jobjectArray outs, jintArray status, jintArray reason,
                                                          jobjectArray report) {
    (void)cls;
    if (array_address == 0 || schema_address == 0) {
        return fail_shim(ST_NULL_ARGUMENT, "Arrow array or schema address is 0");
    }
    KilnBatch *batch = NULL;
    int32_t ks = kiln_batch_from_arrow((struct ArrowArray *)(intptr_t)array_address,
                                       (const struct ArrowSchema *)(intptr_t)schema_address, &batch);
    if (ks != KILN_STATUS_OK) {
        return fail_kiln(ks);
    }
    jint st = score_batch(env, model, batch, n_rows, n_threads, outs, status, reason, report);
    /* Calls the exporter's release callback, which returns the vectors' buffers to Java. */
    kiln_batch_free(batch);
    return st;
}
