/*
 * The R host of kiln: a thin shell over include/kiln.h (see docs/ABI.md).
 *
 * Two rules shape this file:
 *  - Rf_error() longjmps over every native frame. So a kiln message is copied into a local buffer
 *    first (kiln_last_error() is only valid until the next kiln call), every native object is freed
 *    next, and only then is the error raised. The batch is also held by an external pointer with
 *    a finalizer, so an error R itself raises mid-way (out of memory, an untranslatable string)
 *    cannot leak it either.
 *  - A batch borrows host memory. Numeric R vectors (double, integer, factor codes) are handed
 *    over in place; everything that must be converted (logical, character, factor levels, Date,
 *    POSIXct, null masks) goes into R_alloc() memory, which R releases when the .Call returns,
 *    normally or by an error. The batch is always freed before that.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kiln.h"

#include "kiln_r.h"

/* The highest row status code ABI v1 defines. */
#define KR_MAX_ROW_STATUS KILN_ROW_STATUS_NO_SCORE

#define KR_MSG_MAX 4096

static SEXP kr_model_tag = NULL;
static SEXP kr_batch_tag = NULL;

void kr_init_tags(void) {
    kr_model_tag = Rf_install("kiln_model");
    kr_batch_tag = Rf_install("kiln_batch");
}

/* Copy kiln's thread-local message (and the status name) into `buf` before anything else can
 * overwrite it. */
static void kr_message(char *buf, size_t cap, const char *what, int32_t status) {
    const char *msg = kiln_last_error();
    const char *name = kiln_status_name(status);
    snprintf(buf, cap, "kiln: %s failed (%s): %s", what, name ? name : "unknown",
             (msg && *msg) ? msg : "(no message from the library)");
}

/* ---- models ------------------------------------------------------------------------------ */

static void kr_model_finalizer(SEXP handle) {
    const KilnModel *model = (const KilnModel *)R_ExternalPtrAddr(handle);
    if (model) {
        R_ClearExternalPtr(handle);
        kiln_model_free(model);
    }
}

static const KilnModel *kr_model(SEXP handle) {
    if (TYPEOF(handle) != EXTPTRSXP || R_ExternalPtrTag(handle) != kr_model_tag)
        Rf_error("kiln: not a kiln model handle");
    const KilnModel *model = (const KilnModel *)R_ExternalPtrAddr(handle);
    if (!model)
        Rf_error("kiln: the model has been freed (kiln_free() was called, or it was restored from a "
                 "saved session); load it again with kiln_load()");
    return model;
}

static const char *kr_string_arg(SEXP x, const char *what) {
    if (TYPEOF(x) != STRSXP || XLENGTH(x) != 1 || STRING_ELT(x, 0) == NA_STRING)
        Rf_error("kiln: %s must be a single non-NA string", what);
    return Rf_translateCharUTF8(STRING_ELT(x, 0));
}

SEXP kr_abi_version(void) {
    SEXP out = PROTECT(Rf_allocVector(INTSXP, 2));
    INTEGER(out)[0] = (int)kiln_abi_version();
    INTEGER(out)[1] = (int)KILN_ABI_VERSION;
    UNPROTECT(1);
    return out;
}

SEXP kr_library_version(void) {
    const char *v = kiln_version();
    return Rf_ScalarString(Rf_mkCharCE(v ? v : "", CE_UTF8));
}

SEXP kr_row_status_names(void) {
    SEXP out = PROTECT(Rf_allocVector(STRSXP, KR_MAX_ROW_STATUS + 1));
    for (int code = 0; code <= KR_MAX_ROW_STATUS; code++) {
        const char *name = kiln_row_status_name(code);
        SET_STRING_ELT(out, code, Rf_mkCharCE(name ? name : "unknown", CE_UTF8));
    }
    UNPROTECT(1);
    return out;
}

SEXP kr_load(SEXP path, SEXP expect_fingerprint) {
    const char *p = kr_string_arg(path, "path");
    const char *fp = NULL;
    if (expect_fingerprint != R_NilValue) fp = kr_string_arg(expect_fingerprint, "expect_fingerprint");

    /* The handle exists (with its finalizer) before the model does, so no R allocation can fail
     * between loading the model and handing its ownership to R. */
    SEXP handle = PROTECT(R_MakeExternalPtr(NULL, kr_model_tag, R_NilValue));
    R_RegisterCFinalizerEx(handle, kr_model_finalizer, TRUE);

    const KilnModel *model = NULL;
    int32_t st = kiln_model_load(p, fp, &model);
    if (st != KILN_STATUS_OK) {
        char msg[KR_MSG_MAX];
        kr_message(msg, sizeof msg, "loading the model", st);
        UNPROTECT(1);
        Rf_error("%s", msg);
    }
    R_SetExternalPtrAddr(handle, (void *)model);
    UNPROTECT(1);
    return handle;
}

SEXP kr_free(SEXP handle) {
    if (TYPEOF(handle) != EXTPTRSXP || R_ExternalPtrTag(handle) != kr_model_tag)
        Rf_error("kiln: not a kiln model handle");
    kr_model_finalizer(handle);
    return R_NilValue;
}

SEXP kr_is_live(SEXP handle) {
    return Rf_ScalarLogical(TYPEOF(handle) == EXTPTRSXP && R_ExternalPtrTag(handle) == kr_model_tag &&
                            R_ExternalPtrAddr(handle) != NULL);
}

/* Raise an R error for a failed accessor call. Nothing native is held here. */
static void kr_check(int32_t st, const char *what) {
    if (st != KILN_STATUS_OK) {
        char msg[KR_MSG_MAX];
        kr_message(msg, sizeof msg, what, st);
        Rf_error("%s", msg);
    }
}

static SEXP kr_utf8(const char *s) {
    return Rf_mkCharCE(s ? s : "", CE_UTF8);
}

/* list(fingerprint, info_json, outputs, input_names, input_types): what the R side needs to
 * describe the model and to decide how to hand each column over. */
SEXP kr_model_meta(SEXP handle) {
    const KilnModel *model = kr_model(handle);
    const char *fingerprint = NULL, *info = NULL;
    size_t n_out = 0, n_in = 0;
    kr_check(kiln_model_fingerprint(model, &fingerprint), "reading the fingerprint");
    kr_check(kiln_model_info_json(model, &info), "reading the model description");
    kr_check(kiln_model_num_outputs(model, &n_out), "counting outputs");
    kr_check(kiln_model_num_inputs(model, &n_in), "counting inputs");

    SEXP out = PROTECT(Rf_allocVector(VECSXP, 5));
    SET_VECTOR_ELT(out, 0, Rf_ScalarString(kr_utf8(fingerprint)));
    SET_VECTOR_ELT(out, 1, Rf_ScalarString(kr_utf8(info)));
    SEXP outputs = Rf_allocVector(STRSXP, (R_xlen_t)n_out);
    SET_VECTOR_ELT(out, 2, outputs);
    for (size_t i = 0; i < n_out; i++) {
        const char *name = NULL;
        kr_check(kiln_model_output_name(model, i, &name), "reading an output name");
        SET_STRING_ELT(outputs, (R_xlen_t)i, kr_utf8(name));
    }
    SEXP in_names = Rf_allocVector(STRSXP, (R_xlen_t)n_in);
    SET_VECTOR_ELT(out, 3, in_names);
    SEXP in_types = Rf_allocVector(INTSXP, (R_xlen_t)n_in);
    SET_VECTOR_ELT(out, 4, in_types);
    for (size_t i = 0; i < n_in; i++) {
        const char *name = NULL;
        int32_t type = 0;
        kr_check(kiln_model_input(model, i, &name, &type), "reading an input column");
        SET_STRING_ELT(in_names, (R_xlen_t)i, kr_utf8(name));
        INTEGER(in_types)[i] = type;
    }
    SEXP names = PROTECT(Rf_allocVector(STRSXP, 5));
    const char *keys[] = {"fingerprint", "info_json", "outputs", "input_names", "input_types"};
    for (int i = 0; i < 5; i++) SET_STRING_ELT(names, i, Rf_mkChar(keys[i]));
    Rf_setAttrib(out, R_NamesSymbol, names);
    UNPROTECT(2);
    return out;
}

/* ---- batches ----------------------------------------------------------------------------- */

static void kr_batch_finalizer(SEXP holder) {
    KilnBatch *batch = (KilnBatch *)R_ExternalPtrAddr(holder);
    if (batch) {
        R_ClearExternalPtr(holder);
        kiln_batch_free(batch);
    }
}

/* A zero-length R vector's data pointer may be a sentinel such as (void *)1: give kiln an
 * aligned, readable address instead. */
static const double kr_empty[1] = {0.0};

static const void *kr_data(SEXP x) {
    if (XLENGTH(x) == 0) return kr_empty;
    switch (TYPEOF(x)) {
    case REALSXP: return REAL_RO(x);
    case INTSXP:
    case LGLSXP: return TYPEOF(x) == INTSXP ? (const void *)INTEGER_RO(x) : (const void *)LOGICAL_RO(x);
    default: return NULL;
    }
}

/* Failure while building or scoring: copy the message, free the batch, then raise. */
static void kr_batch_fail(SEXP holder, const char *what, int32_t st) {
    char msg[KR_MSG_MAX];
    kr_message(msg, sizeof msg, what, st);
    kr_batch_finalizer(holder);
    Rf_error("%s", msg);
}

/* A failure found on the R side (a value kiln cannot be given): free the batch, then raise. */
static void kr_batch_fail_host(SEXP holder, const char *msg) {
    char copy[KR_MSG_MAX];
    snprintf(copy, sizeof copy, "%s", msg);
    kr_batch_finalizer(holder);
    Rf_error("%s", copy);
}

/* One byte per row, non-zero = null; NULL when the column has no nulls (the common case, so
 * clean columns cost no allocation). */
static uint8_t *kr_int_null_mask(const int *v, size_t n) {
    uint8_t *mask = NULL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == NA_INTEGER) {
            if (!mask) {
                mask = (uint8_t *)R_alloc(n, 1);
                memset(mask, 0, n);
            }
            mask[i] = 1;
        }
    }
    return mask;
}

/* Arrow-style offsets + bytes from a STRSXP (the column's values or a factor's levels). Fills
 * `*offsets`, `*data`, `*data_len`; `*mask` gets a null mask when the vector holds NA. Returns
 * NULL, or a message for a value kiln cannot take (too large for int32 offsets). */
static const char *kr_strings(SEXP x, size_t n, int32_t **offsets, uint8_t **data, size_t *data_len,
                              uint8_t **mask) {
    const char **ptrs = (const char **)R_alloc(n ? n : 1, sizeof(const char *));
    size_t total = 0;
    *mask = NULL;
    for (size_t i = 0; i < n; i++) {
        SEXP s = STRING_ELT(x, (R_xlen_t)i);
        if (s == NA_STRING) {
            ptrs[i] = NULL;
            if (!*mask) {
                *mask = (uint8_t *)R_alloc(n, 1);
                memset(*mask, 0, n);
            }
            (*mask)[i] = 1;
            continue;
        }
        /* Returns CHAR(s) itself for ASCII and UTF-8 strings; translates (R_alloc) otherwise. */
        ptrs[i] = Rf_translateCharUTF8(s);
        total += strlen(ptrs[i]);
        if (total > (size_t)INT32_MAX) return "its strings hold more than 2 GiB in all; score it in smaller pieces";
    }
    int32_t *off = (int32_t *)R_alloc(n + 1, sizeof(int32_t));
    uint8_t *bytes = (uint8_t *)R_alloc(total ? total : 1, 1);
    size_t at = 0;
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (ptrs[i]) {
            size_t len = strlen(ptrs[i]);
            memcpy(bytes + at, ptrs[i], len);
            at += len;
        }
        off[i + 1] = (int32_t)at;
    }
    *offsets = off;
    *data = bytes;
    *data_len = total;
    return NULL;
}

/* Add one data.frame column to the batch. Returns 0 or a kiln status (message pending in
 * kiln_last_error), or -1 with `host_msg` filled for a value the R side cannot hand over. */
static int32_t kr_add_column(KilnBatch *batch, SEXP col, const char *name, int kind, size_t n, char *host_msg,
                             size_t host_cap) {
    switch (kind) {
    case KR_COL_F64:
        if (TYPEOF(col) != REALSXP) break;
        /* NA_real_ and NaN are both NaN: kiln reads them as null. */
        return kiln_batch_add_column(batch, name, KILN_PHYSICAL_TYPE_F64, kr_data(col), n, NULL, NULL);
    case KR_COL_I32:
        if (TYPEOF(col) != INTSXP) break;
        return kiln_batch_add_column(batch, name, KILN_PHYSICAL_TYPE_I32, kr_data(col), n, NULL,
                                     kr_int_null_mask(INTEGER_RO(col), n));
    case KR_COL_BOOL8: {
        if (TYPEOF(col) != LGLSXP) break;
        const int *v = LOGICAL_RO(col);
        uint8_t *bytes = (uint8_t *)R_alloc(n ? n : 1, 1);
        for (size_t i = 0; i < n; i++) bytes[i] = (v[i] != NA_LOGICAL && v[i] != 0) ? 1 : 0;
        return kiln_batch_add_column(batch, name, KILN_PHYSICAL_TYPE_BOOL8, bytes, n, NULL, kr_int_null_mask(v, n));
    }
    case KR_COL_FACTOR: {
        if (TYPEOF(col) != INTSXP) break;
        SEXP levels = Rf_getAttrib(col, R_LevelsSymbol);
        if (TYPEOF(levels) != STRSXP) break;
        size_t n_levels = (size_t)XLENGTH(levels);
        int32_t *offsets;
        uint8_t *bytes, *level_mask;
        size_t bytes_len;
        const char *problem = kr_strings(levels, n_levels, &offsets, &bytes, &bytes_len, &level_mask);
        if (problem) {
            snprintf(host_msg, host_cap, "kiln: factor column '%s': %s", name, problem);
            return -1;
        }
        if (level_mask) {
            snprintf(host_msg, host_cap, "kiln: factor column '%s' has NA among its levels; use NA values, not an NA level",
                     name);
            return -1;
        }
        /* Codes are R's own 1-based integers, NA_integer_ (negative) = null: read in place. */
        return kiln_batch_add_dictionary(batch, name, (const int32_t *)kr_data(col), n, offsets, bytes, bytes_len,
                                         n_levels, 1);
    }
    case KR_COL_UTF8: {
        if (TYPEOF(col) != STRSXP) break;
        int32_t *offsets;
        uint8_t *bytes, *mask;
        size_t bytes_len;
        const char *problem = kr_strings(col, n, &offsets, &bytes, &bytes_len, &mask);
        if (problem) {
            snprintf(host_msg, host_cap, "kiln: character column '%s': %s", name, problem);
            return -1;
        }
        return kiln_batch_add_utf8(batch, name, offsets, bytes, bytes_len, n, NULL, mask);
    }
    case KR_COL_DATE32: {
        int32_t *days = (int32_t *)R_alloc(n ? n : 1, sizeof(int32_t));
        uint8_t *mask = NULL;
        if (TYPEOF(col) == INTSXP) {
            memcpy(days, kr_data(col), n * sizeof(int32_t));
            mask = kr_int_null_mask(INTEGER_RO(col), n);
        } else if (TYPEOF(col) == REALSXP) {
            const double *v = REAL_RO(col);
            for (size_t i = 0; i < n; i++) {
                if (ISNAN(v[i])) {
                    if (!mask) {
                        mask = (uint8_t *)R_alloc(n, 1);
                        memset(mask, 0, n);
                    }
                    mask[i] = 1;
                    days[i] = 0;
                    continue;
                }
                /* A Date may hold a fraction of a day; the calendar day is its floor. */
                double d = floor(v[i]);
                if (!(d >= (double)INT32_MIN && d <= (double)INT32_MAX)) {
                    snprintf(host_msg, host_cap, "kiln: Date column '%s' row %zu holds %g days, outside what a date can be",
                             name, i + 1, v[i]);
                    return -1;
                }
                days[i] = (int32_t)d;
            }
        } else {
            break;
        }
        return kiln_batch_add_column(batch, name, KILN_PHYSICAL_TYPE_DATE32, days, n, NULL, mask);
    }
    case KR_COL_TIMESTAMP: {
        if (TYPEOF(col) != REALSXP) break;
        const double *v = REAL_RO(col);
        int64_t *micros = (int64_t *)R_alloc(n ? n : 1, sizeof(int64_t));
        uint8_t *mask = NULL;
        for (size_t i = 0; i < n; i++) {
            if (ISNAN(v[i])) {
                if (!mask) {
                    mask = (uint8_t *)R_alloc(n, 1);
                    memset(mask, 0, n);
                }
                mask[i] = 1;
                micros[i] = 0;
                continue;
            }
            /* POSIXct is double seconds since the epoch (UTC); round to the nearest microsecond. */
            double us = nearbyint(v[i] * 1e6);
            if (!(us >= -9.2e18 && us <= 9.2e18)) {
                snprintf(host_msg, host_cap, "kiln: POSIXct column '%s' row %zu holds %g seconds, outside what a timestamp can be",
                         name, i + 1, v[i]);
                return -1;
            }
            micros[i] = (int64_t)us;
        }
        return kiln_batch_add_column(batch, name, KILN_PHYSICAL_TYPE_TIMESTAMP_US, micros, n, NULL, mask);
    }
    default:
        snprintf(host_msg, host_cap, "kiln: internal error: unknown column kind %d for '%s'", kind, name);
        return -1;
    }
    snprintf(host_msg, host_cap, "kiln: internal error: column '%s' does not have the storage its kind %d needs",
             name, kind);
    return -1;
}

/* Score `columns` (a list of data.frame columns named `names`, handed over as `kinds`). Returns
 * list(outputs = list of double vectors, status = integer, reason = integer reason ids,
 * reason_source = character). */
SEXP kr_predict(SEXP handle, SEXP columns, SEXP names, SEXP kinds, SEXP n_rows_arg, SEXP n_threads_arg) {
    const KilnModel *model = kr_model(handle);
    if (TYPEOF(columns) != VECSXP || TYPEOF(names) != STRSXP || TYPEOF(kinds) != INTSXP ||
        XLENGTH(columns) != XLENGTH(names) || XLENGTH(columns) != XLENGTH(kinds))
        Rf_error("kiln: internal error: malformed column list");
    double n_rows_d = Rf_asReal(n_rows_arg);
    if (ISNAN(n_rows_d) || n_rows_d < 0) Rf_error("kiln: internal error: bad row count");
    size_t n = (size_t)n_rows_d;
    int n_threads = Rf_asInteger(n_threads_arg);
    if (n_threads == NA_INTEGER || n_threads < 0) Rf_error("kiln: n_threads must be NULL or a non-negative integer");
    R_xlen_t n_cols = XLENGTH(columns);
    for (R_xlen_t j = 0; j < n_cols; j++) {
        if ((size_t)XLENGTH(VECTOR_ELT(columns, j)) != n)
            Rf_error("kiln: column '%s' has %lld values, the data has %zu rows",
                     Rf_translateCharUTF8(STRING_ELT(names, j)), (long long)XLENGTH(VECTOR_ELT(columns, j)), n);
    }

    size_t n_out = 0;
    kr_check(kiln_model_num_outputs(model, &n_out), "counting outputs");
    /* Output buffers come first: once the batch exists, every R allocation is a chance to jump. */
    SEXP scores = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)(n * n_out)));
    SEXP status = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)n));
    SEXP reason = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)n));

    SEXP holder = PROTECT(R_MakeExternalPtr(NULL, kr_batch_tag, R_NilValue));
    R_RegisterCFinalizerEx(holder, kr_batch_finalizer, TRUE);
    KilnBatch *batch = NULL;
    int32_t st = kiln_batch_new(n, &batch);
    if (st != KILN_STATUS_OK) kr_batch_fail(holder, "creating a batch", st);
    R_SetExternalPtrAddr(holder, batch);

    for (R_xlen_t j = 0; j < n_cols; j++) {
        const char *name = Rf_translateCharUTF8(STRING_ELT(names, j));
        char host_msg[KR_MSG_MAX];
        host_msg[0] = '\0';
        st = kr_add_column(batch, VECTOR_ELT(columns, j), name, INTEGER(kinds)[j], n, host_msg, sizeof host_msg);
        if (st == -1) kr_batch_fail_host(holder, host_msg);
        if (st != KILN_STATUS_OK) {
            char what[512];
            snprintf(what, sizeof what, "adding column '%s'", name);
            kr_batch_fail(holder, what, st);
        }
    }

    double *scores_p = XLENGTH(scores) ? REAL(scores) : (double *)kr_empty;
    int32_t *status_p = n ? (int32_t *)INTEGER(status) : (int32_t *)kr_empty;
    int32_t *reason_p = n ? (int32_t *)INTEGER(reason) : (int32_t *)kr_empty;
    st = kiln_model_score(model, batch, (uint32_t)n_threads, scores_p, n * n_out, status_p, n, reason_p, n, NULL);
    if (st != KILN_STATUS_OK) kr_batch_fail(holder, "scoring", st);
    kr_batch_finalizer(holder);

    /* Unscored rows come back as NaN; R's "no value" is NA_real_. */
    for (size_t i = 0; i < n; i++) {
        if (status_p[i] != KILN_ROW_STATUS_OK)
            for (size_t k = 0; k < n_out; k++) REAL(scores)[k * n + i] = NA_REAL;
    }

    SEXP outputs = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)n_out));
    if (n_out == 1) {
        SET_VECTOR_ELT(outputs, 0, scores);
    } else {
        for (size_t k = 0; k < n_out; k++) {
            SEXP col = Rf_allocVector(REALSXP, (R_xlen_t)n);
            SET_VECTOR_ELT(outputs, (R_xlen_t)k, col);
            if (n) memcpy(REAL(col), REAL(scores) + k * n, n * sizeof(double));
        }
    }

    /* The per-row reason as the column or step it names. Reason ids are few, so look each one up
     * once. */
    SEXP source = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)n));
    enum { CACHE = 256 };
    SEXP cache = PROTECT(Rf_allocVector(STRSXP, CACHE));
    for (R_xlen_t c = 0; c < CACHE; c++) SET_STRING_ELT(cache, c, NA_STRING);
    for (size_t i = 0; i < n; i++) {
        int32_t id = reason_p[i];
        if (status_p[i] == KILN_ROW_STATUS_OK) {
            SET_STRING_ELT(source, (R_xlen_t)i, NA_STRING);
            continue;
        }
        if (id < 0) {
            /* A flagged row without a reason id is one the model itself gave no score (no_score);
             * kiln's report and the golden cases name that source "model". */
            SET_STRING_ELT(source, (R_xlen_t)i, Rf_mkChar("model"));
            continue;
        }
        SEXP s = id < CACHE ? STRING_ELT(cache, id) : NA_STRING;
        if (s == NA_STRING) {
            const char *src = NULL;
            if (kiln_model_reason_source(model, id, &src) == KILN_STATUS_OK && src) {
                s = kr_utf8(src);
            } else {
                char fallback[64];
                snprintf(fallback, sizeof fallback, "reason %d", (int)id);
                s = Rf_mkChar(fallback);
            }
            if (id < CACHE) SET_STRING_ELT(cache, id, s);
        }
        SET_STRING_ELT(source, (R_xlen_t)i, s);
    }

    SEXP out = PROTECT(Rf_allocVector(VECSXP, 4));
    SET_VECTOR_ELT(out, 0, outputs);
    SET_VECTOR_ELT(out, 1, status);
    SET_VECTOR_ELT(out, 2, reason);
    SET_VECTOR_ELT(out, 3, source);
    SEXP out_names = PROTECT(Rf_allocVector(STRSXP, 4));
    SET_STRING_ELT(out_names, 0, Rf_mkChar("outputs"));
    SET_STRING_ELT(out_names, 1, Rf_mkChar("status"));
    SET_STRING_ELT(out_names, 2, Rf_mkChar("reason"));
    SET_STRING_ELT(out_names, 3, Rf_mkChar("reason_source"));
    Rf_setAttrib(out, R_NamesSymbol, out_names);
    UNPROTECT(9);
    return out;
}
