/* The .Call entry points of the kiln R package (registered in init.c). */
#ifndef KILN_R_H
#define KILN_R_H

#define R_NO_REMAP
#include <Rinternals.h>

/* How the R side hands a data.frame column over (decided in R/predict.R). The numbers are private
 * to this package; they mirror KR_* in R/predict.R. */
enum kr_column_kind {
    KR_COL_F64 = 1,       /* double, read in place */
    KR_COL_I32 = 2,       /* integer, read in place (+ a null mask when it holds NA) */
    KR_COL_BOOL8 = 3,     /* logical, copied to one byte per value */
    KR_COL_FACTOR = 4,    /* factor codes read in place, levels copied into a dictionary */
    KR_COL_UTF8 = 5,      /* character, copied into Arrow-style offsets + bytes */
    KR_COL_DATE32 = 6,    /* Date (double or integer days), converted to int32 days */
    KR_COL_TIMESTAMP = 7  /* POSIXct (double seconds), converted to int64 microseconds */
};

void kr_init_tags(void);

SEXP kr_abi_version(void);
SEXP kr_library_version(void);
SEXP kr_row_status_names(void);
SEXP kr_load(SEXP path, SEXP expect_fingerprint);
SEXP kr_free(SEXP handle);
SEXP kr_is_live(SEXP handle);
SEXP kr_model_meta(SEXP handle);
SEXP kr_predict(SEXP handle, SEXP columns, SEXP names, SEXP kinds, SEXP n_rows, SEXP n_threads);

#endif
