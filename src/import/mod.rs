//! Importers: models trained by other libraries, turned into kiln artifact types (never
//! execution types). Each importer reproduces its library's prediction arithmetic exactly.

pub mod lightgbm;
pub mod xgboost;
