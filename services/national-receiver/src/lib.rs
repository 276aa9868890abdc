//! `dti-national-receiver`: the reference receiver, a small server of the national push contract
//! (`docs/national-sync.md`), a test double of the national system (not part of
//! the production service), run by the tests for real and usable for demos. It records every
//! push it accepts, dedupes by idempotency key (a repeated key gets the first answer again; the
//! same key with another body is refused with 422), and can be told to misbehave:
//! fail the next N requests with a status (not processed), answer the next N requests only
//! after a delay (processed first, so a client that times out has in fact been recorded), and
//! reject chosen items with a reason.
//!
//! Control endpoints (loopback tests and demos): `GET /control/state`, `PUT /control/faults`,
//! for a caller bearing the control token only (`--control-token`; off without one).
//! HTTPS when given a certificate chain and key (rustls on ring).
//!
//! Modules:
//! - [`records`]: what it records (faults, accepted and rejected pushes, replays) and how it
//!   decides a push;
//! - [`routes`]: the HTTP routes (push, control, health);
//! - [`serve`]: binding and serving, plain or TLS;
//! - [`cli`]: the command line of the binary, also parsed by tests that start it in-process.

#![warn(missing_docs)]

pub mod cli;
pub mod records;
pub mod routes;
pub mod serve;

pub use cli::Args;
pub use records::{AcceptedPush, Faults, ReceiverState, RejectedPush};
pub use routes::{router, ReceiverSettings};
pub use serve::{tls_acceptor, Receiver, ReceiverError};
