# Throughput of predict() from R: rows per second for a model and a batch, per thread count.
#
#   Rscript bindings/r/bench/bench.R MODEL INPUT [N_ROWS] [THREADS...]
#
# INPUT is a CSV file (read with read.csv, strings as factors unless KILN_BENCH_STRINGS=character)
# or a golden-case input.json. Its rows are repeated up to N_ROWS (default 1e6). THREADS default
# to "1 0" (0 = all cores). Needs the kiln package installed (and jsonlite for golden inputs).
suppressMessages(library(kiln))
args <- commandArgs(TRUE)
if (length(args) < 2L) stop("usage: bench.R MODEL INPUT [N_ROWS] [THREADS...]")
model <- kiln_load(args[[1L]])
n_rows <- if (length(args) >= 3L) as.numeric(args[[3L]]) else 1e6
threads <- if (length(args) >= 4L) as.integer(args[-(1:3)]) else c(1L, 0L)
strings_as_factors <- Sys.getenv("KILN_BENCH_STRINGS", "factor") != "character"

read_input <- function(path) {
  if (grepl("\\.json$", path)) {
    g <- jsonlite::fromJSON(path, simplifyVector = FALSE)
    vals <- function(v, na, f) vapply(v, function(x) if (is.null(x)) na else f(x), na)
    cols <- lapply(g$columns, function(c) switch(c$type,
      float64 = vals(c$values, NA_real_, as.numeric), int32 = vals(c$values, NA_integer_, as.integer),
      bool = vals(c$values, NA, as.logical), utf8 = vals(c$values, NA_character_, as.character),
      date32 = structure(vals(c$values, NA_real_, as.numeric), class = "Date")))
    names(cols) <- vapply(g$columns, function(c) c$name, "")
    return(as.data.frame(cols, stringsAsFactors = strings_as_factors, optional = TRUE))
  }
  df <- read.csv(path, stringsAsFactors = strings_as_factors, na.strings = "")
  # CSV has no date type: give date inputs as Date, timestamps as POSIXct (UTC).
  for (i in which(model$inputs$name %in% names(df))) {
    name <- model$inputs$name[[i]]
    if (model$inputs$type[[i]] == "date") df[[name]] <- as.Date(as.character(df[[name]]))
    if (model$inputs$type[[i]] == "timestamp") df[[name]] <- as.POSIXct(as.character(df[[name]]), tz = "UTC")
  }
  df
}

base <- read_input(args[[2L]])
df <- base[rep_len(seq_len(nrow(base)), n_rows), , drop = FALSE]
rownames(df) <- NULL
cat(sprintf("model %s (%s)\nbatch %d rows x %d columns (%s)\n", basename(args[[1L]]), model$fingerprint,
            nrow(df), ncol(df), paste(vapply(df, function(x) class(x)[[1L]], ""), collapse = ", ")))
invisible(predict(model, df[seq_len(min(1000L, nrow(df))), , drop = FALSE]))
for (t in threads) {
  times <- vapply(1:5, function(i) system.time(predict(model, df, n_threads = t))[["elapsed"]], 0)
  best <- min(times)
  out <- predict(model, df, n_threads = t)
  cat(sprintf("threads=%-3s median %.3f s  best %.3f s  %.2f M rows/s (best)  scored %d/%d\n",
              if (t == 0L) "all" else t, median(times), best, nrow(df) / best / 1e6,
              sum(out$status == 0L), nrow(out)))
}
