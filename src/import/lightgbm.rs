//! LightGBM text model import.
