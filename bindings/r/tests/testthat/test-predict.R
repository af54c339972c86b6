test_that("every column type scores exactly", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(9L)
  out <- predict(m, df)
  expect_s3_class(out, "data.frame")
  expect_identical(names(out), c("score", "status", "reason"))
  expect_identical(nrow(out), 9L)
  expect_identical(out$status, rep(0L, 9L))
  expect_identical(out$reason, rep(NA_character_, 9L))
  expect_identical(bits(out$score), bits(expected_every_type(df)))
})

test_that("characters score like factors, and integer-stored Dates like double ones", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(7L)
  as_chr <- df
  as_chr$city <- as.character(df$city)
  as_int_date <- df
  as_int_date$day <- structure(as.integer(unclass(df$day)), class = "Date")
  expect_identical(bits(predict(m, as_chr)$score), bits(predict(m, df)$score))
  expect_identical(bits(predict(m, as_int_date)$score), bits(predict(m, df)$score))
  # A Date with a fraction of a day is on its calendar day.
  frac <- df
  frac$day <- df$day + 0.75
  expect_identical(bits(predict(m, frac)$score), bits(predict(m, df)$score))
})

test_that("factor levels are matched by name, not by code", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(6L)
  reordered <- df
  reordered$city <- factor(as.character(df$city), levels = c("c", "a", "b"))
  expect_identical(bits(predict(m, reordered)$score), bits(predict(m, df)$score))
})

test_that("NA in every column type reaches kiln as a null", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(7L)
  df$x[1] <- NA_real_
  df$n[2] <- NA_integer_
  df$flag[3] <- NA
  df$city[4] <- NA
  df$day[5] <- NA
  df$ts[6] <- NA
  out <- predict(m, df)
  expect_identical(out$status, c(rep(1L, 6L), 0L))
  expect_identical(out$reason, c("x", "n", "flag", "city", "day", "ts", NA))
  expect_true(all(is.na(out$score[1:6])))
  expect_identical(bits(out$score[7]), bits(expected_every_type(df[7, ])))

  chr <- every_type_frame(2L)
  chr$city <- c(NA, "b")
  out <- predict(m, chr)
  expect_identical(out$status, c(1L, 0L))
  expect_identical(out$reason[1], "city")
  nan <- every_type_frame(2L)
  nan$x[2] <- NaN
  expect_identical(predict(m, nan)$status, c(0L, 1L))
})

test_that("a factor level never seen in training gives the row status unknown_category", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(3L)
  df$city <- factor(c("a", "zzz", "c"), levels = c("a", "c", "zzz"))
  out <- predict(m, df)
  expect_identical(out$status, c(0L, 2L, 0L))
  expect_identical(unname(kiln_row_status_names()[as.character(out$status[2])]), "unknown_category")
  expect_identical(out$reason[2], "city")
  expect_true(is.na(out$score[2]))
  expect_identical(bits(out$score[c(1, 3)]), bits(expected_every_type(df[c(1, 3), ])))
})

test_that("bad input gives an R error with the native message", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(4L)
  expect_error(predict(m, df[setdiff(names(df), "n")]), "missing_column.*missing column 'n'")
  wrong <- df
  wrong$x <- as.character(df$x)
  expect_error(predict(m, wrong), "column_type.*column 'x'")
  wrong <- df
  wrong$flag <- as.numeric(df$flag)
  expect_error(predict(m, wrong), "column_type.*column 'flag'")
  wrong <- df
  wrong$x <- as.complex(df$x)
  expect_error(predict(m, wrong), "column 'x' is of R type complex")
  wrong <- df
  wrong$x <- I(as.list(df$x))
  expect_error(predict(m, wrong), "column 'x' is of R type list")
  expect_error(predict(m, as.list(df)), "must be a data.frame")
  expect_error(predict(m, df, n_threads = -1), "n_threads")
  expect_error(predict(m, df, n_threads = 1.5), "n_threads")
  twice <- cbind(df, data.frame(x = 1:4))
  expect_error(predict(m, twice), "more than one column named 'x'")
  wrong <- df
  wrong$day <- as.Date(Inf)
  expect_error(predict(m, wrong), "Date column 'day' row 1")
  # After all these errors the model still scores.
  expect_identical(predict(m, df)$status, rep(0L, 4L))
})

test_that("results do not depend on the thread count", {
  m <- kiln_load(write_artifact(every_type_content()))
  df <- every_type_frame(5000L)
  one <- predict(m, df, n_threads = 1)
  two <- predict(m, df, n_threads = 2L)
  all <- predict(m, df)
  expect_identical(bits(one$score), bits(two$score))
  expect_identical(bits(one$score), bits(all$score))
  expect_identical(bits(one$score), bits(expected_every_type(df)))
})

test_that("several outputs become several columns, and row names are kept", {
  m <- kiln_load(write_artifact(two_output_content()))
  df <- data.frame(x = c(1, 2.5, NA, -4), row.names = c("a", "b", "c", "d"))
  out <- predict(m, df)
  expect_identical(names(out), c("first", "second", "status", "reason"))
  expect_identical(rownames(out), c("a", "b", "c", "d"))
  ok <- out$status == 0L
  expect_identical(bits(out$first[ok]), bits(df$x[ok]))
  expect_identical(bits(out$second[ok]), bits(1 - 2 * df$x[ok]))
})

test_that("an empty data.frame gives an empty result", {
  m <- kiln_load(write_artifact(every_type_content()))
  out <- predict(m, every_type_frame(3L)[0, ])
  expect_identical(nrow(out), 0L)
  expect_identical(names(out), c("score", "status", "reason"))
})
