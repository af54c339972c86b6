/* kiln through its C ABI, as a C host calls it: the peers comparison's C-side timer.
 *
 *   kiln_capi MODEL.kiln ROWS.bin THREADS SCORES.bin [REPEAT] [SINGLE_CALLS] [OUTPUT] [BATCH_ROWS]
 *
 * ROWS.bin (written by run.py): "KLNROWS1", u64 n_rows, u64 n_cols, then per column a u32
 * name length and the name bytes, then the columns, each n_rows little-endian float64 (NaN =
 * missing). Columns are matched to the model's inputs by name, as every kiln host does.
 *
 * Prints one JSON object on stdout: load time, batch time (best of REPEAT), single-row latency
 * (median over SINGLE_CALLS calls, each building a one-row KilnBatch over the row, scoring it
 * and freeing it), the same latency with one batch built once and scored repeatedly, and
 * through kiln_model_score_row (the row as numbers, no batch).
 * Writes output column OUTPUT (default 0) of the batch scores to SCORES.bin (float64), for parity.
 * BATCH_ROWS (default all) scores only the file's first rows: a short batch with a high REPEAT
 * is the quick A/B of two builds, run alternately with LD_LIBRARY_PATH naming each build.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiln.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "kiln_capi: %s\n", what);
  exit(1);
}

static void check(KilnStatus s, const char *what) {
  if (s != KILN_STATUS_OK) {
    fprintf(stderr, "kiln_capi: %s failed: %s (%s)\n", what, kiln_status_name(s), kiln_last_error());
    exit(1);
  }
}

static void read_exact(FILE *f, void *buf, size_t n, const char *what) {
  if (fread(buf, 1, n, f) != n) die(what);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
  size_t n_rows, n_cols;
  char **names;
  double **cols;
} Rows;

static Rows read_rows(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) die("cannot open the rows file");
  char magic[8];
  read_exact(f, magic, 8, "rows file: short header");
  if (memcmp(magic, "KLNROWS1", 8) != 0) die("rows file: bad magic");
  uint64_t n_rows, n_cols;
  read_exact(f, &n_rows, 8, "rows file: short header");
  read_exact(f, &n_cols, 8, "rows file: short header");
  Rows r = {(size_t)n_rows, (size_t)n_cols, calloc(n_cols, sizeof(char *)), calloc(n_cols, sizeof(double *))};
  if (!r.names || !r.cols) die("out of memory");
  for (size_t j = 0; j < r.n_cols; j++) {
    uint32_t len;
    read_exact(f, &len, 4, "rows file: short name");
    r.names[j] = calloc(len + 1, 1);
    if (!r.names[j]) die("out of memory");
    read_exact(f, r.names[j], len, "rows file: short name");
  }
  for (size_t j = 0; j < r.n_cols; j++) {
    r.cols[j] = malloc(r.n_rows * sizeof(double));
    if (!r.cols[j]) die("out of memory");
    read_exact(f, r.cols[j], r.n_rows * sizeof(double), "rows file: short column");
  }
  fclose(f);
  return r;
}

/* A raw-door batch over rows [start, start + n) of every column. */
static KilnBatch *make_batch(const Rows *r, size_t start, size_t n) {
  KilnBatch *b = NULL;
  check(kiln_batch_new(n, &b), "kiln_batch_new");
  for (size_t j = 0; j < r->n_cols; j++)
    check(kiln_batch_add_column(b, r->names[j], KILN_PHYSICAL_TYPE_F64, r->cols[j] + start, n, NULL, NULL),
          "kiln_batch_add_column");
  return b;
}

int main(int argc, char **argv) {
  if (argc < 5) die("usage: kiln_capi MODEL.kiln ROWS.bin THREADS SCORES.bin [REPEAT] [SINGLE_CALLS] [OUTPUT] [BATCH_ROWS]");
  const char *model_path = argv[1];
  unsigned threads = (unsigned)strtoul(argv[3], NULL, 10);
  int repeat = argc > 5 ? atoi(argv[5]) : 3;
  size_t single_calls = argc > 6 ? (size_t)strtoull(argv[6], NULL, 10) : 20000;
  size_t output = argc > 7 ? (size_t)strtoull(argv[7], NULL, 10) : 0;
  if (repeat < 1) repeat = 1;
  if (single_calls < 1) single_calls = 1;
  Rows rows = read_rows(argv[2]);
  if (rows.n_rows == 0) die("rows file has no rows");

  /* Load: parse, validate, fingerprint, prepare the layout. Median of several loads. */
  enum { LOADS = 7 };
  double load_s[LOADS];
  const KilnModel *model = NULL;
  for (int i = 0; i < LOADS; i++) {
    const KilnModel *m = NULL;
    double t0 = now_s();
    check(kiln_model_load(model_path, NULL, &m), "kiln_model_load");
    load_s[i] = now_s() - t0;
    if (model) kiln_model_free(model);
    model = m;
  }
  size_t n_out;
  check(kiln_model_num_outputs(model, &n_out), "kiln_model_num_outputs");
  if (output >= n_out) die("OUTPUT is not an output of the model");

  size_t n = rows.n_rows;
  if (argc > 8) {
    size_t limit = (size_t)strtoull(argv[8], NULL, 10);
    if (limit == 0) die("BATCH_ROWS must be a positive number");
    if (limit < n) n = limit;
  }
  double *scores = malloc(n * n_out * sizeof(double));
  int32_t *status = malloc(n * sizeof(int32_t));
  if (!scores || !status) die("out of memory");

  /* Batch throughput: the batch is built inside the timed region, as a host does per call. */
  double best = 1e300;
  for (int i = 0; i < repeat; i++) {
    double t0 = now_s();
    KilnBatch *b = make_batch(&rows, 0, n);
    check(kiln_model_score(model, b, threads, scores, n * n_out, status, n, NULL, 0, NULL), "kiln_model_score");
    kiln_batch_free(b);
    double t = now_s() - t0;
    if (t < best) best = t;
  }
  size_t not_scored = 0;
  for (size_t i = 0; i < n; i++) not_scored += status[i] != 0;

  /* Single row, the whole per-call cost: batch over the row, score, free. */
  double one_score[16];
  int32_t one_status;
  if (n_out > 16) die("more than 16 outputs");
  double *lat = malloc(single_calls * sizeof(double));
  if (!lat) die("out of memory");
  for (size_t i = 0; i < single_calls + 1000; i++) {
    size_t row = (i * 7919) % n;
    double t0 = now_s();
    KilnBatch *b = make_batch(&rows, row, 1);
    check(kiln_model_score(model, b, threads, one_score, n_out, &one_status, 1, NULL, 0, NULL), "kiln_model_score");
    kiln_batch_free(b);
    double t = now_s() - t0;
    if (i >= 1000) lat[i - 1000] = t; /* the first thousand warm caches and branch predictors */
  }
  double single_s = median(lat, single_calls);

  /* Single row on a batch built once: the scoring call alone. */
  KilnBatch *b1 = make_batch(&rows, 0, 1);
  for (size_t i = 0; i < single_calls + 1000; i++) {
    double t0 = now_s();
    check(kiln_model_score(model, b1, threads, one_score, n_out, &one_status, 1, NULL, 0, NULL), "kiln_model_score");
    double t = now_s() - t0;
    if (i >= 1000) lat[i - 1000] = t;
  }
  kiln_batch_free(b1);
  double single_reuse_s = median(lat, single_calls);

  /* Single row through kiln_model_score_row: the row as numbers in schema order (laid out
   * before the clock starts, as a service holds its request), no batch. -1 when the model has
   * string inputs (the entry point refuses them). */
  size_t n_in = 0;
  check(kiln_model_num_inputs(model, &n_in), "kiln_model_num_inputs");
  size_t *col_of = malloc(n_in * sizeof(size_t));
  double *row_values = malloc(n_in * sizeof(double));
  if (!col_of || !row_values) die("out of memory");
  for (size_t j = 0; j < n_in; j++) {
    const char *name = NULL;
    int32_t ty = 0;
    check(kiln_model_input(model, j, &name, &ty), "kiln_model_input");
    col_of[j] = rows.n_cols;
    for (size_t c = 0; c < rows.n_cols; c++)
      if (strcmp(rows.names[c], name) == 0) col_of[j] = c;
    if (col_of[j] == rows.n_cols) die("a model input is not in the rows file");
  }
  double single_row_s = -1.0;
  int32_t one_reason;
  if (kiln_model_score_row(model, row_values, 0, one_score, n_out, NULL, NULL) != KILN_STATUS_INVALID_ARGUMENT ||
      strstr(kiln_last_error(), "string inputs") == NULL) {
    for (size_t i = 0; i < single_calls + 1000; i++) {
      size_t row = (i * 7919) % n;
      for (size_t j = 0; j < n_in; j++) row_values[j] = rows.cols[col_of[j]][row];
      double t0 = now_s();
      check(kiln_model_score_row(model, row_values, n_in, one_score, n_out, &one_status, &one_reason), "kiln_model_score_row");
      double t = now_s() - t0;
      if (i >= 1000) lat[i - 1000] = t;
    }
    single_row_s = median(lat, single_calls);
  }
  free(col_of);
  free(row_values);

  FILE *f = fopen(argv[4], "wb");
  if (!f || fwrite(scores + output * n, sizeof(double), n, f) != n) die("cannot write the scores file");
  fclose(f);

  printf("{\"library\": \"%s\", \"rows\": %zu, \"threads\": %u, \"load_s\": %.9f, \"batch_s\": %.9f, "
         "\"rows_per_s\": %.1f, \"single_s\": %.9f, \"single_reuse_s\": %.9f, \"single_row_s\": %.9f, \"single_calls\": %zu, "
         "\"not_scored\": %zu}\n",
         kiln_version(), n, threads, median(load_s, LOADS), best, (double)n / best, single_s, single_reuse_s,
         single_row_s, single_calls, not_scored);
  kiln_model_free(model);
  free(lat);
  free(scores);
  free(status);
  for (size_t j = 0; j < rows.n_cols; j++) {
    free(rows.names[j]);
    free(rows.cols[j]);
  }
  free(rows.names);
  free(rows.cols);
  return 0;
}
