//! Cross-service end-to-end tests of the DTI platform live under `tests/tests/`.

#![warn(missing_docs)]
