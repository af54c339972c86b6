test_that("the library speaks an ABI this package knows", {
  expect_identical(kiln_abi_version(), 1L)
  expect_match(kiln_version(), "^[0-9]+\\.[0-9]+\\.[0-9]+")
  expect_identical(unname(kiln_row_status_names()[c("0", "1", "2")]), c("ok", "null", "unknown_category"))
})

test_that("kiln_load describes the model", {
  path <- write_artifact(every_type_content())
  m <- kiln_load(path)
  expect_s3_class(m, "kiln_model")
  expect_match(m$fingerprint, "^sha256:[0-9a-f]{64}$")
  expect_identical(m$outputs, "score")
  expect_identical(m$inputs$name, c("x", "n", "flag", "city", "day", "ts"))
  expect_identical(m$inputs$type, c("float64", "int32", "bool", "categorical", "date", "timestamp"))

  printed <- paste(capture.output(print(m)), collapse = "\n")
  expect_match(printed, m$fingerprint, fixed = TRUE)
  expect_match(printed, "city <categorical>", fixed = TRUE)
  expect_match(printed, "outputs: +score")
  expect_match(printed, "kiln 0.1.0")

  s <- summary(m)
  expect_s3_class(s, "summary.kiln_model")
  expect_identical(s$schema$name, m$inputs$name)
  expect_identical(s$schema$categories, c(NA, NA, NA, 3L, NA, NA))
  expect_identical(s$pipeline, "one_hot(city)")
  expect_identical(s$model$kind, "linear")
  expect_identical(s$provenance$seed, 7L)
  printed <- paste(capture.output(print(s)), collapse = "\n")
  expect_match(printed, "alpha=0.5", fixed = TRUE)
  expect_match(printed, "seed 7", fixed = TRUE)
  kiln_free(m)
})

test_that("a pinned fingerprint is checked", {
  path <- write_artifact(every_type_content())
  fp <- kiln_load(path)$fingerprint
  expect_identical(kiln_load(path, expect_fingerprint = fp)$fingerprint, fp)
  wrong <- paste0("sha256:", strrep("0", 64))
  expect_error(kiln_load(path, expect_fingerprint = wrong), "fingerprint_mismatch.*pinned")
})

test_that("bad files give the native message", {
  expect_error(kiln_load(file.path(tempdir(), "no-such-model.kiln")), "kiln: loading the model failed \\(io\\)")
  bad <- tempfile(fileext = ".kiln")
  writeLines("{\"format\": \"kiln\", \"format_ver", bad)
  expect_error(kiln_load(bad), "malformed_artifact")
  newer <- tempfile(fileext = ".kiln")
  writeLines(jsonlite::toJSON(list(format = "kiln", format_version = "99.0", content = every_type_content()),
                              auto_unbox = TRUE, digits = NA), newer)
  expect_error(kiln_load(newer), "unsupported_version")
  expect_error(kiln_load(c("a", "b")), "single file name")
  expect_error(kiln_load(bad, expect_fingerprint = 3), "expect_fingerprint")
})

test_that("a freed model refuses to score, twice freeing is harmless, and print still works", {
  m <- kiln_load(write_artifact(every_type_content()))
  expect_true(kiln_is_live(m))
  kiln_free(m)
  expect_false(kiln_is_live(m))
  kiln_free(m)
  expect_error(predict(m, every_type_frame()), "freed")
  expect_match(paste(capture.output(print(m)), collapse = "\n"), "(freed)", fixed = TRUE)
})

test_that("unreferenced models are released by the garbage collector", {
  for (i in 1:50) m <- kiln_load(write_artifact(every_type_content()))
  rm(m)
  expect_silent(invisible(gc()))
})
