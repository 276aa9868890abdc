//! Background work on a timer: one loop for every service's periodic task (deadline closer,
//! finalizer, reconcilers, sweeper, scheduled sync). The step stays in the service; the kit
//! owns the interval, the logging of failed steps and shutdown.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::ServiceKit;

/// When a periodic task runs its step for the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstRun {
    /// At once, when the task starts.
    Immediately,
    /// One interval after the task starts (the service did the first run before serving, or
    /// the step should wait).
    AfterOneInterval,
}

impl ServiceKit {
    /// Runs `step` every `interval` (the first time as `first` says) until shutdown. A step
    /// that fails is logged with the task `name` and tried again at the next tick; a step that
    /// overruns the interval makes the ticks it missed be skipped, not caught up. Shutdown is
    /// honoured between steps: a running step finishes first.
    pub fn spawn_periodic<F, Fut, E>(
        &self,
        name: &'static str,
        interval: Duration,
        first: FirstRun,
        step: F,
    ) where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        self.spawn_task(name, move |shutdown| async move {
            run_periodic(name, interval, first, step, shutdown).await;
            Ok::<(), std::convert::Infallible>(())
        });
    }
}

impl ServiceKit {
    /// Keeps something the service caches from its database current: runs `reload` on each
    /// message of the prefix's `event` subject (when the kit has NATS; task `on_event`) and every
    /// `interval` should an event be missed (task `on_timer`). When it returns, the
    /// subscription is in force at the server and `reload` has run once after it, so nothing
    /// stored since the caller's own load waits for the timer. A failed reload is logged and
    /// tried again on the next event or tick.
    pub(crate) async fn keep_current<F, Fut, E>(
        &self,
        on_event: &'static str,
        on_timer: &'static str,
        event: &str,
        interval: Duration,
        reload: F,
    ) -> Result<(), crate::StartError>
    where
        F: Fn() -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        self.spawn_periodic(
            on_timer,
            interval,
            FirstRun::AfterOneInterval,
            reload.clone(),
        );
        let Ok(jetstream) = self.jetstream() else {
            return Ok(());
        };
        let mut changes = jetstream
            .client()
            .subscribe(self.subject(event))
            .await
            .map_err(crate::StartError::step("subscribing to a change event"))?;
        // The subscription is only queued on the connection; a request the server answers on
        // the same connection (the stream's info) proves it is registered, as the server reads
        // a connection in order. Then one reload catches what was stored after the caller's
        // load and before the subscription took effect, whose event this service missed.
        jetstream
            .get_stream(dti_bus::stream::stream_name(&self.nats_prefix))
            .await
            .map_err(crate::StartError::step(
                "confirming a change-event subscription",
            ))?;
        if let Err(error) = reload().await {
            tracing::warn!(task = on_event, %error, "reloading after subscribing");
        }
        self.spawn_task(on_event, move |shutdown| async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok::<(), std::convert::Infallible>(()),
                    message = futures::StreamExt::next(&mut changes) => {
                        if message.is_none() {
                            // The connection is gone for good; the timer still rechecks.
                            return Ok(());
                        }
                        if let Err(error) = reload().await {
                            tracing::warn!(task = on_event, %error, "reloading on its event");
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

/// The loop of [`ServiceKit::spawn_periodic`].
async fn run_periodic<F, Fut, E>(
    name: &'static str,
    interval: Duration,
    first: FirstRun,
    mut step: F,
    shutdown: CancellationToken,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    if first == FirstRun::AfterOneInterval {
        ticks.tick().await;
    }
    tracing::info!(task = name, ?interval, "periodic task started");
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                if let Err(error) = step().await {
                    tracing::warn!(task = name, %error, "periodic step failed; retrying at the next tick");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    fn counting_step(
        runs: &Arc<AtomicUsize>,
        fail: bool,
    ) -> impl FnMut() -> std::future::Ready<Result<(), String>> {
        let runs = Arc::clone(runs);
        move || {
            runs.fetch_add(1, Ordering::SeqCst);
            std::future::ready(if fail { Err("boom".to_owned()) } else { Ok(()) })
        }
    }

    /// Waits (at most 10 s) until `runs` reaches `at_least`.
    async fn until_runs(runs: &AtomicUsize, at_least: usize) {
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            while runs.load(Ordering::SeqCst) < at_least {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "only {} runs", runs.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn failing_steps_run_again_at_every_tick_until_shutdown() {
        let runs = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run_periodic(
            "test",
            Duration::from_millis(20),
            FirstRun::Immediately,
            counting_step(&runs, true),
            shutdown.clone(),
        ));
        until_runs(&runs, 3).await;
        shutdown.cancel();
        task.await.expect("the loop ends on shutdown");
        let stopped_at = runs.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            stopped_at,
            "no step after shutdown"
        );
    }

    #[tokio::test]
    async fn the_first_run_may_wait_one_interval() {
        let runs = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run_periodic(
            "test",
            Duration::from_millis(400),
            FirstRun::AfterOneInterval,
            counting_step(&runs, false),
            shutdown.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not before one interval");
        until_runs(&runs, 1).await;
        shutdown.cancel();
        task.await.expect("the loop ends on shutdown");
    }
}
