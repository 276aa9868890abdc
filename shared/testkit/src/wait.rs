//! Waiting for something asynchronous to become true: poll a check at a fixed interval until
//! it answers or a time limit passes. One loop for every test that waits on a relay, a
//! consumer, a worker or a file.

use std::future::Future;
use std::time::Duration;

/// How long to keep polling, and how long to sleep between two checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// Give up once this much time has passed.
    pub limit: Duration,
    /// Sleep between two checks.
    pub every: Duration,
}

impl Poll {
    /// Polls every `every` for at most `limit`.
    pub const fn new(limit: Duration, every: Duration) -> Self {
        Self { limit, every }
    }
}

/// Polls `check` until it returns `Some`, and returns that value; fails naming `what` once
/// `poll.limit` has passed. A check's own error ends the wait at once.
pub async fn eventually<T, F, Fut>(what: &str, poll: Poll, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + poll.limit;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(poll.every).await;
    }
}

/// Polls `check` until it returns true; fails naming `what` once `poll.limit` has passed.
pub async fn wait_until<F, Fut>(what: &str, poll: Poll, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    eventually(what, poll, || {
        let done = check();
        async move { Ok(done.await?.then_some(())) }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_first_answer_and_gives_up_after_the_limit() {
        let mut calls = 0;
        let found = eventually(
            "the third call",
            Poll::new(Duration::from_secs(5), Duration::ZERO),
            || {
                calls += 1;
                let answer = (calls == 3).then_some(calls);
                async move { Ok(answer) }
            },
        )
        .await;
        assert_eq!(found.ok(), Some(3));
        let never = wait_until(
            "never",
            Poll::new(Duration::from_millis(20), Duration::from_millis(5)),
            || async { Ok(false) },
        )
        .await;
        assert!(never.is_err_and(|error| error.to_string().contains("never")));
    }
}
