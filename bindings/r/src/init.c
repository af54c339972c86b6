/* Registration of the package's native routines: only these are callable from R, by their
 * registered objects (C_kr_*), never by a dynamic symbol lookup. */
#include <R_ext/Rdynload.h>

#include "kiln_r.h"

#define CALLDEF(name, n) {#name, (DL_FUNC)&name, n}

static const R_CallMethodDef kr_call_methods[] = {
    CALLDEF(kr_abi_version, 0),
    CALLDEF(kr_library_version, 0),
    CALLDEF(kr_row_status_names, 0),
    CALLDEF(kr_load, 2),
    CALLDEF(kr_free, 1),
    CALLDEF(kr_is_live, 1),
    CALLDEF(kr_model_meta, 1),
    CALLDEF(kr_predict, 6),
    {NULL, NULL, 0}};

void R_init_kiln(DllInfo *dll) {
    kr_init_tags();
    R_registerRoutines(dll, NULL, kr_call_methods, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
    R_forceSymbols(dll, TRUE);
}
