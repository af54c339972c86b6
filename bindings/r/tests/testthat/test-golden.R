# The shared golden cases (tests/golden/, format in its README.md): every host must reproduce the
# scores bit for bit, and the row statuses exactly.

golden_dir <- function() {
  dir <- Sys.getenv("KILN_GOLDEN_DIR", "")
  if (!nzchar(dir)) dir <- file.path("..", "..", "..", "..", "tests", "golden")
  if (dir.exists(dir)) return(normalizePath(dir))
  if (Sys.getenv("KILN_REQUIRE_GOLDEN") == "1") stop("golden cases not found in '", dir, "' (KILN_GOLDEN_DIR)")
  NULL
}

read_golden <- function(path) {
  g <- jsonlite::fromJSON(path, simplifyVector = FALSE)
  if (!identical(g$format, "kiln-golden-1")) stop(path, ": unknown golden format '", format(g$format), "'")
  g
}

# One R vector per golden column, nulls as NA. Strings come back as character; `factors = TRUE`
# turns them into factors (both must score alike).
golden_frame <- function(input, factors = FALSE) {
  vals <- function(v, na, f) vapply(v, function(x) if (is.null(x)) na else f(x), na)
  cols <- lapply(input$columns, function(c) {
    switch(c$type,
      float64 = vals(c$values, NA_real_, as.numeric),
      int32 = vals(c$values, NA_integer_, as.integer),
      bool = vals(c$values, NA, as.logical),
      utf8 = {
        s <- vals(c$values, NA_character_, as.character)
        if (factors) factor(s) else s
      },
      date32 = structure(vals(c$values, NA_real_, as.numeric), class = "Date"),
      stop("unknown golden column type '", c$type, "'")
    )
  })
  names(cols) <- vapply(input$columns, function(c) c$name, "")
  df <- as.data.frame(cols, stringsAsFactors = FALSE, optional = TRUE)
  stopifnot(nrow(df) == input$n_rows)
  df
}

hex_bits <- function(x) {
  vapply(x, function(v) paste(format(writeBin(v, raw(), endian = "big")), collapse = ""), "")
}

check_case <- function(case_dir, out, expected, label) {
  expect_identical(out$status, as.integer(unlist(expected$status)), label = paste(label, "status"))
  for (o in expected$outputs) {
    want <- vapply(o$bits, function(b) if (is.null(b)) NA_character_ else b, "")
    scored <- !is.na(want)
    expect_identical(unname(hex_bits(out[[o$name]][scored])), want[scored], label = paste(label, o$name, "bits"))
    expect_true(all(is.na(out[[o$name]][!scored])), label = paste(label, o$name, "unscored rows are NA"))
  }
  reasons <- vapply(expected$reason_sources, function(r) if (is.null(r)) NA_character_ else r, "")
  expect_identical(out$reason, reasons, label = paste(label, "reasons"))
  expect_identical(sum(out$status == 0L), as.integer(expected$scored), label = paste(label, "scored"))
  expect_identical(sum(out$status != 0L), as.integer(expected$flagged), label = paste(label, "flagged"))
}

test_that("golden cases are reproduced bit for bit", {
  root <- golden_dir()
  skip_if(is.null(root), "golden cases not found (set KILN_GOLDEN_DIR)")
  cases <- list.dirs(root, recursive = FALSE)
  cases <- cases[file.exists(file.path(cases, "expected.json"))]
  expect_gt(length(cases), 0)
  for (case_dir in cases) {
    label <- basename(case_dir)
    expected <- read_golden(file.path(case_dir, "expected.json"))
    input <- read_golden(file.path(case_dir, "input.json"))
    m <- kiln_load(file.path(case_dir, "model.kiln"), expect_fingerprint = expected$fingerprint)
    expect_identical(m$fingerprint, expected$fingerprint)
    expect_identical(m$outputs, vapply(expected$outputs, function(o) o$name, ""))

    df <- golden_frame(input)
    check_case(case_dir, predict(m, df), expected, label)
    check_case(case_dir, predict(m, df, n_threads = 1), expected, paste(label, "(1 thread)"))
    check_case(case_dir, predict(m, golden_frame(input, factors = TRUE)), expected, paste(label, "(factors)"))
    # Columns in another order, and the batch split in two, change nothing.
    check_case(case_dir, predict(m, df[rev(names(df))]), expected, paste(label, "(columns reversed)"))
    half <- seq_len(nrow(df) %/% 2)
    split <- rbind(predict(m, df[half, , drop = FALSE]), predict(m, df[-half, , drop = FALSE]))
    rownames(split) <- NULL
    check_case(case_dir, split, expected, paste(label, "(split)"))
    kiln_free(m)
  }
})
