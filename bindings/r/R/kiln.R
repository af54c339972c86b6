# Loading, describing and freeing kiln models.

# ABI versions of the kiln C library this package knows how to call (docs/ABI.md).
.kiln_known_abi <- 1L

# Schema column types (KilnColumnType in kiln.h).
.kiln_column_types <- c("float64", "float32", "int64", "int32", "bool", "categorical", "date", "timestamp")

.onLoad <- function(libname, pkgname) {
  abi <- .Call(C_kr_abi_version)
  runtime <- abi[[1L]]
  compiled <- abi[[2L]]
  if (runtime != compiled || !(runtime %in% .kiln_known_abi)) {
    stop(sprintf(
      "the kiln library speaks C ABI version %d, this package was built for version %d and knows %s; reinstall the R package against the library you have",
      runtime, compiled, paste(.kiln_known_abi, collapse = ", ")
    ), call. = FALSE)
  }
}

kiln_version <- function() .Call(C_kr_library_version)

kiln_abi_version <- function() .Call(C_kr_abi_version)[[1L]]

kiln_row_status_names <- function() {
  names <- .Call(C_kr_row_status_names)
  stats::setNames(names, seq_along(names) - 1L)
}

kiln_load <- function(path, expect_fingerprint = NULL) {
  if (!is.character(path) || length(path) != 1L || is.na(path)) {
    stop("path must be a single file name", call. = FALSE)
  }
  if (!is.null(expect_fingerprint) &&
      (!is.character(expect_fingerprint) || length(expect_fingerprint) != 1L || is.na(expect_fingerprint))) {
    stop("expect_fingerprint must be NULL or a single string such as \"sha256:...\"", call. = FALSE)
  }
  path <- path.expand(path)
  handle <- .Call(C_kr_load, path, expect_fingerprint)
  meta <- .Call(C_kr_model_meta, handle)
  types <- meta$input_types
  type_names <- ifelse(types >= 1L & types <= length(.kiln_column_types),
                       .kiln_column_types[pmax(1L, pmin(types, length(.kiln_column_types)))],
                       paste0("type ", types))
  structure(
    list(
      handle = handle,
      path = normalizePath(path, mustWork = FALSE),
      fingerprint = meta$fingerprint,
      outputs = meta$outputs,
      inputs = data.frame(name = meta$input_names, type = type_names, code = types, stringsAsFactors = FALSE),
      info = jsonlite::fromJSON(meta$info_json, simplifyVector = FALSE)
    ),
    class = "kiln_model"
  )
}

kiln_free <- function(model) {
  .Call(C_kr_free, .kiln_handle(model))
  invisible(NULL)
}

kiln_is_live <- function(model) .Call(C_kr_is_live, .kiln_handle(model))

.kiln_handle <- function(model) {
  if (!inherits(model, "kiln_model")) stop("expected a kiln_model (from kiln_load())", call. = FALSE)
  model$handle
}

# ---- description -----------------------------------------------------------------------------

.kiln_model_line <- function(m) {
  if (is.null(m)) return("unknown")
  parts <- character()
  if (!is.null(m$n_trees)) parts <- c(parts, sprintf("%d trees", as.integer(m$n_trees)))
  if (!is.null(m$depth)) parts <- c(parts, sprintf("depth %d", as.integer(m$depth)))
  if (!is.null(m$features)) parts <- c(parts, sprintf("%d features", length(m$features)))
  paste0(if (is.null(m$kind)) "model" else m$kind, if (length(parts)) paste0(" (", paste(parts, collapse = ", "), ")") else "")
}

.kiln_provenance_line <- function(p) {
  if (is.null(p)) return("unknown")
  lib <- if (!is.null(p$library) && nzchar(p$library)) p$library else "unknown library"
  if (!is.null(p$library_version) && nzchar(p$library_version)) lib <- paste(lib, p$library_version)
  extra <- character()
  if (!is.null(p$kiln_version) && nzchar(p$kiln_version)) extra <- c(extra, paste("kiln", p$kiln_version))
  if (!is.null(p$seed)) extra <- c(extra, paste("seed", format(p$seed, scientific = FALSE)))
  if (!is.null(p$data_fingerprint)) extra <- c(extra, paste("data", p$data_fingerprint))
  paste(c(lib, extra), collapse = ", ")
}

print.kiln_model <- function(x, ...) {
  cat("<kiln_model>", x$path, if (!kiln_is_live(x)) "(freed)", "\n")
  cat("  fingerprint:", x$fingerprint, "\n")
  cat("  model:      ", .kiln_model_line(x$info$model), "\n")
  cat(sprintf("  inputs (%d): %s\n", nrow(x$inputs),
              paste0(x$inputs$name, " <", x$inputs$type, ">", collapse = ", ")))
  cat("  outputs:    ", paste(x$outputs, collapse = ", "), "\n")
  cat("  provenance: ", .kiln_provenance_line(x$info$provenance), "\n")
  invisible(x)
}

.kiln_num <- function(v) if (is.null(v)) NA_real_ else as.numeric(v)

summary.kiln_model <- function(object, ...) {
  cols <- object$info$schema$columns
  schema <- data.frame(
    name = vapply(cols, function(c) c$name, ""),
    type = vapply(cols, function(c) c$type, ""),
    nullable = vapply(cols, function(c) if (is.null(c$nullable)) TRUE else isTRUE(c$nullable), TRUE),
    categories = vapply(cols, function(c) if (is.null(c$categories)) NA_integer_ else length(c$categories), 0L),
    min = vapply(cols, function(c) .kiln_num(c$min), 0),
    max = vapply(cols, function(c) .kiln_num(c$max), 0),
    stringsAsFactors = FALSE
  )
  steps <- vapply(object$info$pipeline, function(s) {
    target <- if (!is.null(s$column)) s$column else if (!is.null(s$output)) s$output else ""
    paste0(s$step, if (nzchar(target)) paste0("(", target, ")") else "")
  }, "")
  structure(
    list(
      path = object$path,
      live = kiln_is_live(object),
      fingerprint = object$fingerprint,
      format_version = object$info$format_version,
      created_at = object$info$created_at,
      schema = schema,
      pipeline = steps,
      model = object$info$model,
      outputs = object$outputs,
      provenance = object$info$provenance
    ),
    class = "summary.kiln_model"
  )
}

print.summary.kiln_model <- function(x, ...) {
  cat("kiln model", x$path, if (!x$live) "(freed)", "\n")
  cat("fingerprint:   ", x$fingerprint, "\n")
  if (!is.null(x$format_version)) cat("format version:", x$format_version, "\n")
  if (!is.null(x$created_at)) cat("created at:    ", x$created_at, "\n")
  cat("model:         ", .kiln_model_line(x$model), "\n")
  cat("outputs:       ", paste(x$outputs, collapse = ", "), "\n")
  cat("provenance:    ", .kiln_provenance_line(x$provenance), "\n")
  if (!is.null(x$provenance$params) && length(x$provenance$params)) {
    p <- x$provenance$params
    cat("params:        ", paste0(names(p), "=", vapply(p, function(v) paste(format(unlist(v)), collapse = ","), ""),
                                   collapse = ", "), "\n")
  }
  cat("pipeline:      ", if (length(x$pipeline)) paste(x$pipeline, collapse = " -> ") else "(none)", "\n")
  cat("schema:\n")
  print(x$schema, row.names = FALSE)
  invisible(x)
}
