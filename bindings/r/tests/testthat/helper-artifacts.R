# Artifacts for the tests are written as kiln JSON (format v1) with no stored fingerprint: kiln
# computes it on load. Values are chosen so that every expected score is exact in binary64, so
# tests can demand bit equality without depending on kiln's summation order.

write_artifact <- function(content) {
  path <- tempfile(fileext = ".kiln")
  envelope <- list(format = "kiln", format_version = "1.0", content = content)
  writeLines(jsonlite::toJSON(envelope, auto_unbox = TRUE, digits = NA, null = "null"), path, useBytes = TRUE)
  path
}

# A linear model (identity link) over one column of every type the R host hands over.
#   score = 0.5 + 2*x + 0.25*n + 4*flag + 1*[city=a] + 8*[city=b] + 16*[city=c] + 0.125*day + 0.5*ts
# where day and ts are days since 1970-01-01. Every column is non-nullable, so a null that reaches
# kiln comes back as row status `null` (1) naming the column, never as a score.
every_type_content <- function() {
  col <- function(name, type, ...) list(name = name, type = type, nullable = FALSE, ...)
  list(
    schema = list(columns = list(
      col("x", "float64"),
      col("n", "int32"),
      col("flag", "bool"),
      col("city", "categorical", categories = I(c("a", "b", "c"))),
      col("day", "date"),
      col("ts", "timestamp")
    )),
    pipeline = list(list(step = "one_hot", column = "city", categories = I(c("a", "b", "c")),
                         unknown = "error", outputs = I(c("city_a", "city_b", "city_c")))),
    model = list(
      kind = "linear",
      features = I(c("x", "n", "flag", "city_a", "city_b", "city_c", "day", "ts")),
      coefficients = list(I(c(2, 0.25, 4, 1, 8, 16, 0.125, 0.5))),
      intercept = I(0.5),
      link = "identity"
    ),
    outputs = list(list(name = "score")),
    provenance = list(library = "kiln", library_version = "0.1.0", seed = 7L, params = list(alpha = 0.5))
  )
}

expected_every_type <- function(df) {
  city <- as.character(df$city)
  0.5 + 2 * df$x + 0.25 * df$n + 4 * df$flag + 1 * (city == "a") + 8 * (city == "b") + 16 * (city == "c") +
    0.125 * as.numeric(df$day) + 0.5 * as.numeric(df$ts) / 86400
}

every_type_frame <- function(n = 6L) {
  i <- seq_len(n)
  data.frame(
    x = i * 0.5,
    n = as.integer(i * 3L),
    flag = i %% 2L == 0L,
    city = factor(c("a", "b", "c")[(i - 1L) %% 3L + 1L], levels = c("a", "b", "c")),
    day = as.Date("2020-01-01") + i,
    ts = as.POSIXct("2021-06-01", tz = "UTC") + 86400 * i,
    unused = "ignored",
    stringsAsFactors = FALSE
  )
}

# Two outputs (identity link, two targets) to check the column-major split.
two_output_content <- function() {
  list(
    schema = list(columns = list(list(name = "x", type = "float64"))),
    pipeline = list(),
    model = list(kind = "linear", features = I("x"), coefficients = list(I(1), I(-2)), intercept = I(c(0, 1)),
                 link = "identity"),
    outputs = list(list(name = "first"), list(name = "second")),
    provenance = list(library = "kiln")
  )
}

bits <- function(x) sprintf("%a", x)

rss_kb <- function() {
  status <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", status[startsWith(status, "VmRSS:")]))
}
