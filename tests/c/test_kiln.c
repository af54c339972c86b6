/*
 * The kiln C ABI from C, using only include/kiln.h: load the fixture models in tests/data,
 * score through the raw door and the Arrow C Data Interface door, check the numbers against
 * the fixtures' formulas computed here, check error paths, and free everything (run under
 * AddressSanitizer and valgrind by tests/c/run.sh).
 *
 * Usage: test_kiln <tests/data directory>
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, " (last error: %s)\n", kiln_last_error());     \
        }                                                                  \
    } while (0)

#define CHECK_OK(call) CHECK((call) == KILN_STATUS_OK, "%s", #call)

/* Assert a status and that the last error mentions `word`. */
#define CHECK_FAILS(call, status, word)                                                       \
    do {                                                                                      \
        KilnStatus s_ = (call);                                                               \
        CHECK(s_ == (status), "%s returned %d (%s), expected %s", #call, (int)s_,             \
              kiln_status_name(s_), #status);                                                 \
        CHECK(strstr(kiln_last_error(), (word)) != NULL, "last error does not mention '%s'", \
              (word));                                                                        \
    } while (0)

static const char *data_dir;

static char *path_of(const char *name) {
    size_t n = strlen(data_dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", data_dir, name);
    return p;
}

/* The pinned fingerprint committed next to a fixture. */
static char *read_fingerprint(const char *name) {
    char *path = path_of(name);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) return NULL;
    char *buf = calloc(1, 128);
    if (!fgets(buf, 128, f)) buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

/* ---- The fixtures' formulas (tests/integration/common/mod.rs documents them) ---- */

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double expected_trees(double age, int income_null, double income, const char *province) {
    if (income_null) income = 1000.0;
    double p_mad = (province && strcmp(province, "MADRID") == 0) ? 1.0 : 0.0;
    double t0 = age < 40.0 ? -0.4 : (p_mad < 0.5 ? 0.3 : 0.9);
    double t1 = income < 2000.0 ? 0.2 : -0.1;
    return sigmoid(0.1 + t0 + t1);
}

static double expected_logistic(double age, double income, const char *province) {
    double p_mad = (province && strcmp(province, "MADRID") == 0) ? 1.0 : 0.0;
    double p_bcn = (province && strcmp(province, "BARCELONA") == 0) ? 1.0 : 0.0;
    return sigmoid(-1.5 + 0.03 * age + 0.0004 * income + 0.5 * p_mad - 0.25 * p_bcn);
}

/* ---- Test rows: host memory for the raw door and the Arrow door ---- */

#define N 5
static const double AGES[N] = {35.0, 52.0, 47.0, 61.0, 44.0};
static const double INCOMES[N] = {1500.0, 0.0, 3000.0, 2500.0, 900.0};
static const uint8_t INCOME_NULL_MASK[N] = {0, 1, 0, 0, 0}; /* row 1: income missing */
static const uint8_t INCOME_VALIDITY[1] = {0x1d};           /* same, as an Arrow bitmap */
static const char *PROVINCES[N] = {"MADRID", "BARCELONA", "SEVILLA", NULL, "LISBOA"};
/* "MADRID" "BARCELONA" "SEVILLA" "" "LISBOA" */
static const int32_t PROVINCE_OFFSETS[N + 1] = {0, 6, 15, 22, 22, 28};
static const uint8_t PROVINCE_TEXT[] = "MADRIDBARCELONASEVILLALISBOA";
static const uint8_t PROVINCE_VALIDITY[1] = {0x17}; /* row 3 null */

static const KilnModel *load_model(const char *name, const char *pin) {
    char *path = path_of(name);
    const KilnModel *m = NULL;
    KilnStatus s = kiln_model_load(path, pin, &m);
    CHECK(s == KILN_STATUS_OK && m != NULL, "loading %s", path);
    free(path);
    return m;
}

/* Score a batch and check the five reference rows (row 4 is an unknown category). */
static void check_scores(const KilnModel *m, const KilnBatch *b, const char *door) {
    double scores[N];
    int32_t status[N], reason[N];
    KilnReport *report = NULL;
    CHECK_OK(kiln_model_score(m, b, 1, scores, N, status, N, reason, N, &report));
    for (int i = 0; i < 4; i++) {
        double want = expected_trees(AGES[i], INCOME_NULL_MASK[i], INCOMES[i], PROVINCES[i]);
        CHECK(status[i] == KILN_ROW_STATUS_OK, "%s row %d status %d", door, i, status[i]);
        CHECK(scores[i] == want, "%s row %d: got %.17g, want %.17g", door, i, scores[i], want);
        CHECK(reason[i] == -1, "%s row %d reason %d", door, i, reason[i]);
    }
    CHECK(status[4] == KILN_ROW_STATUS_UNKNOWN_CATEGORY, "%s row 4 status %d", door, status[4]);
    CHECK(isnan(scores[4]), "%s row 4 score is NaN", door);
    CHECK(strcmp(kiln_row_status_name(status[4]), "unknown_category") == 0, "row status name");
    const char *source = NULL;
    CHECK_OK(kiln_model_reason_source(m, reason[4], &source));
    CHECK(source && strcmp(source, "province") == 0, "reason source %s", source ? source : "(null)");
    const char *json = NULL;
    CHECK_OK(kiln_report_json(report, &json));
    CHECK(json && strstr(json, "\"rows\":5") && strstr(json, "\"scored\":4") && strstr(json, "\"flagged\":1"),
          "%s report %s", door, json ? json : "(null)");
    kiln_report_free(report);
}

static KilnBatch *raw_batch(int with_province) {
    KilnBatch *b = NULL;
    CHECK_OK(kiln_batch_new(N, &b));
    CHECK_OK(kiln_batch_add_column(b, "age", KILN_PHYSICAL_TYPE_F64, AGES, N, NULL, NULL));
    CHECK_OK(kiln_batch_add_column(b, "income", KILN_PHYSICAL_TYPE_F64, INCOMES, N, NULL, INCOME_NULL_MASK));
    if (with_province)
        CHECK_OK(kiln_batch_add_utf8(b, "province", PROVINCE_OFFSETS, PROVINCE_TEXT, 28, N, PROVINCE_VALIDITY, NULL));
    return b;
}

static void test_versions(void) {
    CHECK(kiln_abi_version() == KILN_ABI_VERSION, "abi %u", kiln_abi_version());
    CHECK(strcmp(kiln_version(), KILN_VERSION) == 0, "version %s vs %s", kiln_version(), KILN_VERSION);
    CHECK(strcmp(kiln_status_name(KILN_STATUS_MISSING_COLUMN), "missing_column") == 0, "status name");
    CHECK(strcmp(kiln_status_name(-5), "unknown") == 0, "unknown status name");
}

static void test_raw_door(const KilnModel *m) {
    KilnBatch *b = raw_batch(1);
    size_t n = 0;
    CHECK_OK(kiln_batch_num_rows(b, &n));
    CHECK(n == N, "num_rows %zu", n);
    check_scores(m, b, "raw");
    kiln_batch_free(b);
}

static void test_raw_dictionary_logistic(void) {
    const KilnModel *m = load_model("credit_logistic.kiln", NULL);
    if (!m) return;
    /* R factor codes (1-based) with NA_integer_ as a null. */
    const int32_t codes[3] = {1, 2, INT32_MIN};
    const int32_t dict_offsets[3] = {0, 6, 15};
    const uint8_t dict_text[] = "MADRIDBARCELONA";
    const int32_t ages_i32[3] = {30, 45, 60};
    const double incomes[3] = {1000.0, 2000.0, 500.0};
    KilnBatch *b = NULL;
    CHECK_OK(kiln_batch_new(3, &b));
    CHECK_OK(kiln_batch_add_column(b, "age", KILN_PHYSICAL_TYPE_I32, ages_i32, 3, NULL, NULL));
    CHECK_OK(kiln_batch_add_column(b, "income", KILN_PHYSICAL_TYPE_F64, incomes, 3, NULL, NULL));
    CHECK_OK(kiln_batch_add_dictionary(b, "province", codes, 3, dict_offsets, dict_text, 15, 2, 1));
    double scores[3];
    int32_t status[3];
    CHECK_OK(kiln_model_score(m, b, 0, scores, 3, status, 3, NULL, 0, NULL));
    const char *prov[3] = {"MADRID", "BARCELONA", NULL};
    for (int i = 0; i < 3; i++) {
        double want = expected_logistic(ages_i32[i], incomes[i], prov[i]);
        CHECK(status[i] == 0 && fabs(scores[i] - want) < 1e-12, "logistic row %d: %.17g vs %.17g", i, scores[i], want);
    }
    kiln_batch_free(b);
    kiln_model_free(m);
}

/* ---- Arrow door: a struct array built by hand, with release callbacks ---- */

static int arrays_released = 0;

static void release_child(struct ArrowArray *a) {
    free((void *)a->buffers);
    a->release = NULL;
}

static void release_struct(struct ArrowArray *a) {
    for (int64_t i = 0; i < a->n_children; i++) {
        struct ArrowArray *c = a->children[i];
        if (c->release) c->release(c);
        free(c);
    }
    free(a->children);
    free((void *)a->buffers);
    a->release = NULL;
    arrays_released++;
}

static struct ArrowArray *child_array(int64_t n_buffers, const void *b0, const void *b1, const void *b2, int64_t null_count) {
    struct ArrowArray *c = calloc(1, sizeof *c);
    const void **buffers = calloc((size_t)n_buffers, sizeof(void *));
    buffers[0] = b0;
    if (n_buffers > 1) buffers[1] = b1;
    if (n_buffers > 2) buffers[2] = b2;
    c->length = N;
    c->null_count = null_count;
    c->n_buffers = n_buffers;
    c->buffers = buffers;
    c->release = release_child;
    return c;
}

/* Columns in a different order than the model's schema, plus one the model ignores. */
static void make_struct(struct ArrowArray *out, const int32_t *offsets) {
    memset(out, 0, sizeof *out);
    out->length = N;
    out->n_buffers = 1;
    out->buffers = calloc(1, sizeof(void *));
    out->n_children = 3;
    out->children = calloc(3, sizeof(struct ArrowArray *));
    out->children[0] = child_array(3, PROVINCE_VALIDITY, offsets, PROVINCE_TEXT, 1);
    out->children[1] = child_array(2, INCOME_VALIDITY, INCOMES, NULL, 1);
    out->children[2] = child_array(2, NULL, AGES, NULL, 0);
    out->release = release_struct;
}

static void release_schema(struct ArrowSchema *s) { s->release = NULL; }

static struct ArrowSchema schema_children[3];
static struct ArrowSchema *schema_child_ptrs[3] = {&schema_children[0], &schema_children[1], &schema_children[2]};

static void make_schema(struct ArrowSchema *s, const char *province_name) {
    const char *formats[3] = {"u", "g", "g"};
    const char *names[3] = {province_name, "income", "age"};
    for (int i = 0; i < 3; i++) {
        memset(&schema_children[i], 0, sizeof schema_children[i]);
        schema_children[i].format = formats[i];
        schema_children[i].name = names[i];
        schema_children[i].flags = ARROW_FLAG_NULLABLE;
        schema_children[i].release = release_schema;
    }
    memset(s, 0, sizeof *s);
    s->format = "+s";
    s->name = "";
    s->n_children = 3;
    s->children = schema_child_ptrs;
    s->release = release_schema;
}

static void test_arrow_door(const KilnModel *m) {
    struct ArrowArray array;
    struct ArrowSchema schema;
    make_struct(&array, PROVINCE_OFFSETS);
    make_schema(&schema, "province");
    KilnBatch *b = NULL;
    int released_before = arrays_released;
    CHECK_OK(kiln_batch_from_arrow(&array, &schema, &b));
    CHECK(array.release == NULL, "the caller's array is marked released (moved into kiln)");
    CHECK(arrays_released == released_before, "not released while the batch lives");
    if (b) check_scores(m, b, "arrow");
    kiln_batch_free(b);
    CHECK(arrays_released == released_before + 1, "released exactly once when the batch is freed");

    /* Missing column: the schema names the utf8 column 'region'. */
    make_struct(&array, PROVINCE_OFFSETS);
    make_schema(&schema, "region");
    b = NULL;
    CHECK_OK(kiln_batch_from_arrow(&array, &schema, &b));
    double scores[N];
    int32_t status[N];
    scores[0] = -7.0;
    CHECK_FAILS(kiln_model_score(m, b, 1, scores, N, status, N, NULL, 0, NULL), KILN_STATUS_MISSING_COLUMN, "province");
    CHECK(scores[0] == -7.0, "outputs untouched on failure");
    kiln_batch_free(b);

    /* Offsets past the end of the string data (as far as a producer can lie about it in the
     * C Data Interface: offsets that decrease). The array is still taken and released. */
    static const int32_t bad_offsets[N + 1] = {0, 6, 15, 4, 22, 28};
    make_struct(&array, bad_offsets);
    make_schema(&schema, "province");
    b = NULL;
    released_before = arrays_released;
    CHECK_FAILS(kiln_batch_from_arrow(&array, &schema, &b), KILN_STATUS_BAD_BUFFER, "column 'province'");
    CHECK(b == NULL, "out untouched on failure");
    CHECK(arrays_released == released_before + 1, "a refused array is released by kiln");
}

static void test_errors(const KilnModel *m) {
    double scores[N];
    int32_t status[N];
    size_t n = 0;
    CHECK_FAILS(kiln_model_num_outputs(NULL, &n), KILN_STATUS_NULL_ARGUMENT, "model");
    KilnBatch *b = raw_batch(1);
    CHECK_FAILS(kiln_model_score(NULL, b, 1, scores, N, status, N, NULL, 0, NULL), KILN_STATUS_NULL_ARGUMENT, "model");
    CHECK_FAILS(kiln_model_score(m, b, 1, scores, N - 1, status, N, NULL, 0, NULL), KILN_STATUS_BUFFER_TOO_SMALL, "scores buffer");
    kiln_batch_free(b);

    b = raw_batch(0);
    CHECK_FAILS(kiln_model_score(m, b, 1, scores, N, status, N, NULL, 0, NULL), KILN_STATUS_MISSING_COLUMN, "province");
    /* Dictionary code 9 into a 2-string dictionary. */
    const int32_t codes[N] = {0, 1, 9, -1, 0};
    const int32_t dict_offsets[3] = {0, 6, 15};
    CHECK_FAILS(kiln_batch_add_dictionary(b, "province", codes, N, dict_offsets, (const uint8_t *)"MADRIDBARCELONA", 15, 2, 0),
                KILN_STATUS_BAD_BUFFER, "code 9 at row 2");
    /* Misaligned doubles. */
    CHECK_FAILS(kiln_batch_add_column(b, "x", KILN_PHYSICAL_TYPE_F64, (const char *)AGES + 1, N, NULL, NULL),
                KILN_STATUS_BAD_BUFFER, "aligned");
    kiln_batch_free(b);

    /* Fingerprint pinning: a wrong pin fails and leaves out untouched. */
    char *path = path_of("credit_trees.kiln");
    const KilnModel *sentinel = (const KilnModel *)&n;
    const KilnModel *out = sentinel;
    CHECK_FAILS(kiln_model_load(path, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &out),
                KILN_STATUS_FINGERPRINT_MISMATCH, "fingerprint mismatch");
    CHECK(out == sentinel, "out untouched on failure");
    free(path);
    out = sentinel;
    CHECK_FAILS(kiln_model_load_bytes((const uint8_t *)"{\"format\":", 10, NULL, &out), KILN_STATUS_MALFORMED_ARTIFACT, "truncated");
    CHECK(out == sentinel, "out untouched on failure");
    char *missing = path_of("no_such_model.kiln");
    CHECK_FAILS(kiln_model_load(missing, NULL, &out), KILN_STATUS_IO, "no_such_model.kiln");
    free(missing);

    kiln_model_free(NULL);
    kiln_batch_free(NULL);
    kiln_report_free(NULL);
}

/* A generated batch of `n` rows from one distribution: income null every 10th row (every row
 * when `income_all_null`), provinces the model knows. Arrays live in `buf` until freed. */
#define TRAIN_N 400
struct gen_batch {
    double ages[TRAIN_N], incomes[TRAIN_N];
    uint8_t null_mask[TRAIN_N];
    int32_t offsets[TRAIN_N + 1];
    char text[TRAIN_N * 10];
};

static KilnBatch *generated_batch(struct gen_batch *g, size_t n, int income_all_null) {
    static const char *names[3] = {"MADRID", "BARCELONA", "SEVILLA"};
    size_t at = 0;
    g->offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        g->ages[i] = 20.0 + (double)((i * 37) % 60);
        g->incomes[i] = 500.0 + (double)((i * 53) % 3000);
        g->null_mask[i] = income_all_null || i % 10 == 0;
        const char *p = names[(i * 7) % 3];
        memcpy(g->text + at, p, strlen(p));
        at += strlen(p);
        g->offsets[i + 1] = (int32_t)at;
    }
    KilnBatch *b = NULL;
    CHECK_OK(kiln_batch_new(n, &b));
    CHECK_OK(kiln_batch_add_column(b, "age", KILN_PHYSICAL_TYPE_F64, g->ages, n, NULL, NULL));
    CHECK_OK(kiln_batch_add_column(b, "income", KILN_PHYSICAL_TYPE_F64, g->incomes, n, NULL, g->null_mask));
    CHECK_OK(kiln_batch_add_utf8(b, "province", g->offsets, (const uint8_t *)g->text, at, n, NULL, NULL));
    return b;
}

/* Reference profiles, scoring with profile and drift, the null-rate rule, and profile JSON. */
static void test_profiles(const KilnModel *m) {
    static struct gen_batch g;
    const char *ref = (const char *)1;
    CHECK_OK(kiln_model_reference_profile(m, &ref));
    CHECK(ref == NULL, "a model without a reference profile gives NULL");

    KilnBatch *train = generated_batch(&g, TRAIN_N, 0);
    const KilnModel *mr = NULL;
    CHECK_OK(kiln_model_with_reference_profile(m, train, 1, &mr));
    kiln_batch_free(train);
    if (!mr) return;
    const char *fp = NULL, *fp_ref = NULL;
    CHECK_OK(kiln_model_fingerprint(m, &fp));
    CHECK_OK(kiln_model_fingerprint(mr, &fp_ref));
    CHECK(fp && fp_ref && strcmp(fp, fp_ref) != 0, "attaching a reference changes the fingerprint");
    CHECK_OK(kiln_model_reference_profile(mr, &ref));
    CHECK(ref && strstr(ref, "\"format\":\"kiln-profile-1\"") && strstr(ref, "\"rows\":400"), "reference JSON");

    /* The same distribution: no finding, no drift; profile and drift in the report. */
    KilnBatch *same = generated_batch(&g, 200, 0);
    double scores[TRAIN_N];
    int32_t status[TRAIN_N];
    KilnReport *report = NULL;
    CHECK_OK(kiln_model_score_ex(mr, same, 1, KILN_SCORE_PROFILE | KILN_SCORE_DRIFT, scores, TRAIN_N, status, TRAIN_N, NULL, 0, &report));
    const char *json = NULL;
    CHECK_OK(kiln_report_json(report, &json));
    CHECK(json && strstr(json, "\"rows\":200") && strstr(json, "\"findings\":[]") && strstr(json, "\"profile\":{") &&
              strstr(json, "\"drift\":{") && strstr(json, "\"drifted\":[]"),
          "report %.300s", json ? json : "(null)");
    kiln_report_free(report);
    /* Plain flags: no profile or drift keys. */
    report = NULL;
    CHECK_OK(kiln_model_score_ex(mr, same, 1, 0, scores, TRAIN_N, status, TRAIN_N, NULL, 0, &report));
    CHECK_OK(kiln_report_json(report, &json));
    CHECK(json && !strstr(json, "\"profile\"") && !strstr(json, "\"drift\""), "report %.300s", json ? json : "(null)");
    kiln_report_free(report);
    CHECK_FAILS(kiln_model_score_ex(m, same, 1, KILN_SCORE_DRIFT, scores, TRAIN_N, status, TRAIN_N, NULL, 0, NULL),
                KILN_STATUS_INVALID_ARGUMENT, "reference profile");
    CHECK_FAILS(kiln_model_score_ex(mr, same, 1, 64, scores, TRAIN_N, status, TRAIN_N, NULL, 0, NULL),
                KILN_STATUS_INVALID_ARGUMENT, "flags");
    kiln_batch_free(same);

    /* income turned all-null: a null-rate finding, or a rejected batch that writes nothing. */
    KilnBatch *nulls = generated_batch(&g, 200, 1);
    report = NULL;
    CHECK_OK(kiln_model_score_ex(mr, nulls, 1, KILN_SCORE_DRIFT, scores, TRAIN_N, status, TRAIN_N, NULL, 0, &report));
    CHECK_OK(kiln_report_json(report, &json));
    CHECK(json && strstr(json, "\"rule\":\"null_rate\",\"column\":\"income\"") && strstr(json, "\"drifted\":[\"income\""),
          "report %.400s", json ? json : "(null)");
    kiln_report_free(report);
    scores[0] = -7.0;
    report = NULL;
    CHECK_FAILS(kiln_model_score_ex(mr, nulls, 1, KILN_SCORE_REJECT_NULL_RATE, scores, TRAIN_N, status, TRAIN_N, NULL, 0, &report),
                KILN_STATUS_BATCH_REJECTED, "income");
    CHECK(scores[0] == -7.0 && report == NULL, "nothing written for a rejected batch");
    kiln_batch_free(nulls);

    /* Profile JSON: merge two partitions, summarize, drift; the caller frees each string. */
    char *merged = NULL, *summary = NULL, *drift = NULL;
    CHECK_OK(kiln_profile_merge(ref, ref, &merged));
    CHECK(merged && strstr(merged, "\"rows\":800"), "merged profile");
    CHECK_OK(kiln_profile_summary(merged, &summary));
    CHECK(summary && strstr(summary, "\"rows\":800") && strstr(summary, "\"name\":\"province\""), "summary %.200s", summary ? summary : "(null)");
    CHECK_OK(kiln_profile_drift(ref, merged, &drift));
    CHECK(drift && strstr(drift, "\"drifted\":[]") && strstr(drift, "\"correction\":\"holm\""), "drift %.200s", drift ? drift : "(null)");
    char *untouched = (char *)1;
    CHECK_FAILS(kiln_profile_merge("{\"format\":\"nope\"}", ref, &untouched), KILN_STATUS_INVALID_ARGUMENT, "profile a");
    CHECK(untouched == (char *)1, "out untouched on failure");
    CHECK_FAILS(kiln_profile_drift(ref, NULL, &untouched), KILN_STATUS_NULL_ARGUMENT, "current profile");
    kiln_string_free(merged);
    kiln_string_free(summary);
    kiln_string_free(drift);
    kiln_string_free(NULL);
    kiln_model_free(mr);
}

/* One model shared by several threads, each with its own batch. */
struct thread_result {
    const KilnModel *model;
    int mismatches;
};

static void *score_in_thread(void *arg) {
    struct thread_result *r = arg;
    for (int iter = 0; iter < 20; iter++) {
        KilnBatch *b = NULL;
        if (kiln_batch_new(N, &b) != KILN_STATUS_OK) { r->mismatches++; continue; }
        kiln_batch_add_column(b, "age", KILN_PHYSICAL_TYPE_F64, AGES, N, NULL, NULL);
        kiln_batch_add_column(b, "income", KILN_PHYSICAL_TYPE_F64, INCOMES, N, NULL, INCOME_NULL_MASK);
        kiln_batch_add_utf8(b, "province", PROVINCE_OFFSETS, PROVINCE_TEXT, 28, N, PROVINCE_VALIDITY, NULL);
        double scores[N];
        int32_t status[N];
        if (kiln_model_score(r->model, b, 1, scores, N, status, N, NULL, 0, NULL) != KILN_STATUS_OK) r->mismatches++;
        for (int i = 0; i < 4; i++)
            if (scores[i] != expected_trees(AGES[i], INCOME_NULL_MASK[i], INCOMES[i], PROVINCES[i])) r->mismatches++;
        kiln_batch_free(b);
    }
    return NULL;
}

static void test_threads(const KilnModel *m) {
    pthread_t threads[4];
    struct thread_result results[4];
    for (int t = 0; t < 4; t++) {
        results[t].model = m;
        results[t].mismatches = 0;
        pthread_create(&threads[t], NULL, score_in_thread, &results[t]);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        CHECK(results[t].mismatches == 0, "thread %d had %d mismatches", t, results[t].mismatches);
    }
}

/* One row of numbers, no batch: the same bits as the row in a batch; errors for what it cannot
 * take (a model with a string input, a wrong count, a short buffer). */
static void test_score_row(const KilnModel *credit) {
    double out[3] = {0, 0, 0};
    int32_t st = -7, why = -7;
    const double credit_row[3] = {35.0, 1500.0, 0.0};
    CHECK_FAILS(kiln_model_score_row(credit, credit_row, 3, out, 1, &st, &why), KILN_STATUS_INVALID_ARGUMENT, "province");
    CHECK(st == -7 && why == -7, "nothing written on failure");

    char *path = path_of("../golden/trees_multiclass_softmax/model.kiln");
    const KilnModel *m = NULL;
    CHECK_OK(kiln_model_load(path, NULL, &m));
    free(path);
    if (!m) return;
    const double rows[3][2] = {{0.5, 1.5}, {2.5, 2.25}, {INFINITY, 1.0}};
    for (int i = 0; i < 3; i++) {
        KilnBatch *b = NULL;
        CHECK_OK(kiln_batch_new(1, &b));
        CHECK_OK(kiln_batch_add_column(b, "a", KILN_PHYSICAL_TYPE_F64, &rows[i][0], 1, NULL, NULL));
        CHECK_OK(kiln_batch_add_column(b, "b", KILN_PHYSICAL_TYPE_F64, &rows[i][1], 1, NULL, NULL));
        double want[3];
        int32_t want_status = -1, want_reason = -1;
        CHECK_OK(kiln_model_score(m, b, 1, want, 3, &want_status, 1, &want_reason, 1, NULL));
        kiln_batch_free(b);
        CHECK_OK(kiln_model_score_row(m, rows[i], 2, out, 3, &st, &why));
        CHECK(st == want_status && why == want_reason, "row %d status %d/%d reason %d/%d", i, st, want_status, why, want_reason);
        for (int j = 0; j < 3; j++)
            CHECK(memcmp(&out[j], &want[j], sizeof(double)) == 0, "row %d output %d: %.17g vs %.17g", i, j, out[j], want[j]);
    }
    CHECK(st == KILN_ROW_STATUS_NON_FINITE && isnan(out[0]), "the infinite row is flagged, status %d", st);
    CHECK_OK(kiln_model_score_row(m, rows[0], 2, out, 3, NULL, NULL));
    CHECK_FAILS(kiln_model_score_row(m, rows[0], 1, out, 3, NULL, NULL), KILN_STATUS_INVALID_ARGUMENT, "2 columns");
    CHECK_FAILS(kiln_model_score_row(m, rows[0], 2, out, 2, NULL, NULL), KILN_STATUS_BUFFER_TOO_SMALL, "scores buffer");
    CHECK_FAILS(kiln_model_score_row(m, NULL, 2, out, 3, NULL, NULL), KILN_STATUS_NULL_ARGUMENT, "values");
    kiln_model_free(m);
}

int main(int argc, char **argv) {
    data_dir = argc > 1 ? argv[1] : "tests/data";
    test_versions();
    char *pin = read_fingerprint("credit_trees.fingerprint");
    CHECK(pin != NULL && strncmp(pin, "sha256:", 7) == 0, "fixture fingerprint file");
    const KilnModel *m = load_model("credit_trees.kiln", pin);
    if (m) {
        const char *fp = NULL;
        CHECK_OK(kiln_model_fingerprint(m, &fp));
        CHECK(fp && pin && strcmp(fp, pin) == 0, "fingerprint %s", fp ? fp : "(null)");
        size_t n_out = 0;
        CHECK_OK(kiln_model_num_outputs(m, &n_out));
        CHECK(n_out == 1, "outputs %zu", n_out);
        const char *name = NULL;
        int32_t ty = 0;
        CHECK_OK(kiln_model_input(m, 2, &name, &ty));
        CHECK(name && strcmp(name, "province") == 0 && ty == KILN_COLUMN_TYPE_CATEGORICAL, "input 2");
        const char *info = NULL;
        CHECK_OK(kiln_model_info_json(m, &info));
        CHECK(info && strstr(info, "\"n_trees\":2"), "info json");
        test_raw_door(m);
        test_arrow_door(m);
        test_errors(m);
        test_threads(m);
        test_profiles(m);
        test_score_row(m);
        kiln_model_free(m);
    }
    free(pin);
    test_raw_dictionary_logistic();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
