//! What the chaos suite (`chaos.rs`) runs on: its bounds, the servers of its own
//! (`processes`), everything it started (`platform`), the burst of submissions (`burst`), the
//! chaos itself (`havoc`) and the reads of what the platform ended with (`probes`).

mod burst;
mod havoc;
mod platform;
mod probes;
mod processes;

use std::time::Duration;

pub use burst::{burst, value_of, with_5_1, Acknowledged};
pub use havoc::havoc;
pub use platform::Chaos;
pub use probes::{redis_exists, served_ranking, stream_subjects};
pub use processes::{free_port, start_nats, start_redis, tail};

pub const YEAR: &str = "2023";
pub const FRAMEWORK: &str = "hcm-2023-district";
/// Every unit submits at least this many versions, and goes on until the chaos is over; a
/// unit reaching `MAX_VERSIONS` first fails the test (the chaos would not have hit a burst).
pub const MIN_VERSIONS: u32 = 6;
pub const MAX_VERSIONS: u32 = 80;
/// Pause of a worker between two submissions: the burst lasts as long as the chaos with a few
/// hundred submissions.
pub const THROTTLE: Duration = Duration::from_millis(150);
/// Units submitting in parallel (each unit's versions are sent in order by one worker).
pub const WORKERS: usize = 4;
/// How long one submission may keep failing (a service or NATS down) before the test fails.
pub const SUBMIT_PATIENCE: Duration = Duration::from_secs(60);
/// How long the platform may take to settle after the burst.
pub const SETTLE: Duration = Duration::from_secs(90);
