# Scoring a data.frame.

# How a column is handed to the C shim; mirrors enum kr_column_kind in src/kiln_r.h.
.KR_F64 <- 1L
.KR_I32 <- 2L
.KR_BOOL8 <- 3L
.KR_FACTOR <- 4L
.KR_UTF8 <- 5L
.KR_DATE32 <- 6L
.KR_TIMESTAMP <- 7L

# Decide how column `x` (schema type `type`) crosses into kiln. Numeric storage is passed in
# place; everything else is converted by the shim. Nothing is coerced between kinds here: a
# character column for a numeric input goes over as strings and kiln names the mismatch.
.kiln_column_kind <- function(x, name, type) {
  calendar <- type %in% c("date", "timestamp")
  if (inherits(x, "integer64")) {
    stop(sprintf("column '%s' is a bit64::integer64, which kiln cannot read in place; convert it with as.numeric() or as.integer()", name), call. = FALSE)
  }
  if (is.factor(x)) return(.KR_FACTOR)
  if (inherits(x, "Date")) {
    if (calendar) return(.KR_DATE32)
    return(if (is.integer(x)) .KR_I32 else .KR_F64)
  }
  if (inherits(x, "POSIXct")) return(if (calendar) .KR_TIMESTAMP else .KR_F64)
  if (is.logical(x)) return(.KR_BOOL8)
  if (is.character(x)) return(.KR_UTF8)
  if (is.integer(x)) return(.KR_I32)
  if (is.double(x)) return(.KR_F64)
  stop(sprintf(
    "column '%s' is of R type %s (class %s), which kiln cannot read; give it as double, integer, logical, character, factor, Date or POSIXct",
    name, typeof(x), paste(class(x), collapse = "/")
  ), call. = FALSE)
}

.kiln_threads <- function(n_threads) {
  if (is.null(n_threads)) return(0L)
  if (!is.numeric(n_threads) || length(n_threads) != 1L || is.na(n_threads) || n_threads < 0 ||
      n_threads != trunc(n_threads) || n_threads > .Machine$integer.max) {
    stop("n_threads must be NULL (all cores) or a single non-negative whole number", call. = FALSE)
  }
  as.integer(n_threads)
}

predict.kiln_model <- function(object, newdata, n_threads = NULL, ...) {
  if (!is.data.frame(newdata)) stop("newdata must be a data.frame", call. = FALSE)
  threads <- .kiln_threads(n_threads)
  inputs <- object$inputs
  given <- names(newdata)
  wanted <- inputs$name[inputs$name %in% given]
  twice <- wanted[vapply(wanted, function(n) sum(given == n) > 1L, TRUE)]
  if (length(twice)) stop(sprintf("newdata has more than one column named '%s'", twice[[1L]]), call. = FALSE)
  # Inputs absent from newdata are left out: kiln reports the first missing one by name.
  columns <- lapply(wanted, function(n) newdata[[n]])
  types <- inputs$type[match(wanted, inputs$name)]
  kinds <- as.integer(mapply(.kiln_column_kind, columns, wanted, types, USE.NAMES = FALSE))
  n <- nrow(newdata)
  res <- .Call(C_kr_predict, .kiln_handle(object), columns, wanted, kinds, as.double(n), threads)
  out <- res$outputs
  names(out) <- object$outputs
  out$status <- res$status
  out$reason <- res$reason_source
  structure(out, class = "data.frame", row.names = attr(newdata, "row.names"))
}
