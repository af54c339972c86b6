# Scoring in a loop must not grow the process: every batch (and its converted buffers) is freed,
# on success and on error. A leak of the converted columns (~100 KB per call here) would add
# hundreds of MB over these loops; the tolerance allows for allocator noise.

score_loop <- function(m, df, times) {
  for (i in seq_len(times)) predict(m, df)
}

test_that("scoring many batches does not grow memory", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(2000L)
  df$city <- as.character(df$city)
  score_loop(m, df, 50)
  invisible(gc())
  before <- rss_kb()
  score_loop(m, df, 2000)
  invisible(gc())
  after <- rss_kb()
  expect_lt(after - before, 20 * 1024)
})

test_that("failing calls do not leak their batches", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(2000L)
  df$city <- as.character(df$city)
  bad <- df[setdiff(names(df), "ts")]
  for (i in 1:50) try(predict(m, bad), silent = TRUE)
  invisible(gc())
  before <- rss_kb()
  for (i in 1:2000) try(predict(m, bad), silent = TRUE)
  invisible(gc())
  after <- rss_kb()
  expect_lt(after - before, 20 * 1024)
})

test_that("loading and freeing models in a loop does not grow memory", {
  path <- write_artifact(every_type_content())
  for (i in 1:50) kiln_free(kiln_load(path))
  invisible(gc())
  before <- rss_kb()
  for (i in 1:2000) kiln_free(kiln_load(path))
  invisible(gc())
  after <- rss_kb()
  expect_lt(after - before, 20 * 1024)
})
