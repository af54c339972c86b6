//! XGBoost JSON model import.
