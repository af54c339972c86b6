//! The C ABI (see include/kiln.h).
