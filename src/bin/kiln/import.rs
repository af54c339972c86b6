//! `kiln import`: turn an XGBoost or LightGBM model file into a kiln artifact, with the same
//! importer (and the same options) the C ABI and the Python package use.

use std::path::Path;

use kiln::KilnStatus;
use kiln::import::{ImportOptions, import};

use crate::error::{CliError, CliResult};
use crate::{ImportArgs, Library};

/// The import format of a model file: the library, and for XGBoost the file's extension
/// (`.ubj` binary, anything else JSON), checked against the file's first byte.
fn format_of(library: Library, path: &Path, bytes: &[u8]) -> CliResult<&'static str> {
    Ok(match library {
        Library::Lightgbm => kiln::import::lightgbm::FORMAT_NAME,
        Library::Xgboost => {
            let ubj = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ubj"));
            // Both encodings start with '{'; JSON's next non-blank byte is '"', UBJSON's a length
            // marker. A mismatch gets a message naming the extension, not a parse error.
            let looks_json = bytes.iter().skip(1).find(|b| !b.is_ascii_whitespace()) == Some(&b'"');
            match (ubj, looks_json) {
                (true, true) => return Err(CliError::new(KilnStatus::MalformedArtifact, format!("{} is named .ubj but holds JSON: rename it .json", path.display()))),
                (true, false) => kiln::import::xgboost::UBJ_FORMAT_NAME,
                (false, true) => kiln::import::xgboost::JSON_FORMAT_NAME,
                (false, false) if bytes.first() == Some(&b'{') => kiln::import::xgboost::UBJ_FORMAT_NAME,
                (false, false) => kiln::import::xgboost::JSON_FORMAT_NAME,
            }
        }
    })
}

/// `a:b` → (a, b); `:b` → (0, b); `a:` → (a, 0), where 0 is "to the last", as XGBoost reads it.
fn parse_range(text: &str) -> CliResult<(usize, usize)> {
    let bad = || CliError::new(KilnStatus::InvalidArgument, format!("--iterations '{text}': expected BEGIN:END, e.g. 0:50 (END exclusive, empty = the last)"));
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    let num = |s: &str| if s.trim().is_empty() { Ok(0) } else { s.trim().parse::<usize>().map_err(|_| bad()) };
    Ok((num(a)?, num(b)?))
}

pub fn run(args: &ImportArgs) -> CliResult<()> {
    let bytes = std::fs::read(&args.model_file).map_err(|e| CliError::io(format!("cannot read model file {}", args.model_file.display()), e))?;
    let format = format_of(args.from, &args.model_file, &bytes)?;
    let mut options = ImportOptions { feature_names: args.feature_names.clone(), ..Default::default() };
    if let Some(r) = &args.iterations {
        let (begin, end) = parse_range(r)?;
        match args.from {
            Library::Xgboost => options.iteration_range = Some((begin, end)),
            // LightGBM predicts the first n iterations: only 0:n (or :n) has a meaning.
            Library::Lightgbm if begin == 0 => options.num_iteration = Some(end),
            Library::Lightgbm => {
                return Err(CliError::new(KilnStatus::InvalidArgument, format!("--iterations '{r}': LightGBM models keep the first n iterations only; use 0:n")));
            }
        }
    }
    if args.best_iteration {
        options.best_iteration = true;
    }
    let artifact = import(format, &bytes, &options).map_err(|e| CliError::from(e).context(format!("importing {}", args.model_file.display())))?;
    artifact.save(&args.output).map_err(CliError::from)?;
    if args.inspect {
        crate::print(&crate::inspect::render_text(&artifact, &format!("{}.{}", kiln::artifact::FORMAT_MAJOR, kiln::artifact::FORMAT_MINOR)));
    } else {
        crate::print(&format!(
            "wrote {} ({} {}, {} inputs, outputs {}; {})\n",
            args.output.display(),
            artifact.content.provenance.library,
            artifact.content.provenance.library_version,
            artifact.content.schema.columns.len(),
            artifact.content.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", "),
            artifact.fingerprint,
        ));
    }
    Ok(())
}
