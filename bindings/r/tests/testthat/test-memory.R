# Repeated calls must not grow the process: every batch (and its converted buffers) is freed, on
# success and on error, and every freed model releases its memory. A deliberately leaking build
# (the batch never freed) grows by about 2 KB per call here, so 5000 calls after a warm-up would
# add about 10 MB; the tolerance of 4 MB leaves room for allocator noise (a clean build grows by
# about 0.1 MB). The warm-up lets thread pools and R's own caches reach their steady size.

rss_growth_kb <- function(f, warmup = 1000L, calls = 5000L) {
  for (i in seq_len(warmup)) f()
  invisible(gc())
  before <- rss_kb()
  for (i in seq_len(calls)) f()
  invisible(gc())
  rss_kb() - before
}

leak_frame <- function() {
  df <- every_type_frame(500L)
  df$city <- as.character(df$city)
  df
}

test_that("scoring many batches does not grow memory", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- leak_frame()
  expect_lt(rss_growth_kb(function() predict(m, df)), 4 * 1024)
})

test_that("failing calls do not leak their batches", {
  m <- kiln_load(write_artifact(every_type_content()))
  bad <- leak_frame()
  bad$ts[1] <- Inf # rejected by the R side after the other columns went into the batch
  missing <- leak_frame()[c("x", "n", "flag", "city", "day")] # rejected by kiln when scoring
  expect_error(predict(m, bad), "POSIXct column 'ts'")
  expect_error(predict(m, missing), "missing column 'ts'")
  expect_lt(rss_growth_kb(function() try(predict(m, bad), silent = TRUE)), 4 * 1024)
  expect_lt(rss_growth_kb(function() try(predict(m, missing), silent = TRUE)), 4 * 1024)
})

test_that("loading and freeing models does not grow memory", {
  path <- write_artifact(every_type_content())
  expect_lt(rss_growth_kb(function() kiln_free(kiln_load(path)), warmup = 500L, calls = 3000L), 4 * 1024)
})
