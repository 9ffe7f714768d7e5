//! One invocation in four steps: set up a fresh Store, install the epoch callback, run the
//! export, and finish the report. The pause decision itself is
//! [`crate::fairness::pause_at_tick`], a pure function.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, StoreContextMut, Trap, UpdateDeadline};

use tokio::time::error::Elapsed;

use super::abort::{Stopped, abort_reason, failure, redact_result};
use super::admission::ADMISSION_WAIT;
use super::limiter::LimitHit;
use super::state::{HostState, host_state};
use super::{CallSetup, DataSources, Prepared, Sandbox};
use crate::bindings::airlock::connector::types as wit;
use crate::call::{Allowances, CallContext};
use crate::capabilities::log::{LogLine, MAX_LINE_CHARS};
use crate::fairness::{
    EPOCH_TICK, FREE_WORK, Meter, SharedClock, Timed, pause_at_start, pause_at_tick,
};
use crate::limits::Limits;
use crate::live::Signal;
use crate::report::{AbortReason, CallResult, Event, InvocationReport};
use crate::text::sanitize;

/// Linear memory above which a finished call's Store is dropped on a blocking thread.
const BIG_MEMORY: usize = 8 << 20;

/// How long past its deadline a call waiting inside a host call (a `poll`, a provider's
/// answer) may take before the outer timeout drops it: one tick, the same bound the epoch
/// gives guest code. Host functions that compute rather than wait are bounded per request
/// (see `wasi`), so none runs much longer than a tick either.
const OUTER_GRACE: Duration = EPOCH_TICK;

/// A call between set-up and finish.
struct Invocation {
    store: Store<HostState>,
    call: Arc<CallContext>,
    /// Worker time: the time the call's future is polled (see [`Timed`]).
    clock: SharedClock,
    started: Instant,
    /// When the call must end: `started` plus its limit.
    deadline: Instant,
}

impl Sandbox {
    /// One export call: `handle-event` with an event, `health-check` without.
    pub(super) async fn call(
        &self,
        prepared: &Prepared,
        setup: CallSetup,
        sources: &DataSources,
        limits: &Limits,
        event: Option<&Event>,
    ) -> InvocationReport {
        let arrived = Instant::now();
        // A slot of the merchant's share of the instance pool, held to the end of this
        // function; waiting for one counts against the call's deadline.
        let wait = ADMISSION_WAIT.min(limits.deadline);
        let Some(admitted) = self.admission.admit(&setup.merchant, wait).await else {
            let reason = AbortReason::MerchantBusy {
                limit: self.admission.share(),
            };
            let (id, connector) = (&setup.installation, &prepared.manifest.id);
            return InvocationReport::not_started(id, connector, event, limits, reason);
        };
        // Held to the end of this function: the merchant counts as running until then.
        let seat = self.shares.enter(&setup.merchant);
        let stop = setup.live.as_ref().map(|l| (l.signal.clone(), l.started));
        let mut run = self.set_up(prepared, setup, sources, limits, event, arrived);
        let callback = epoch_callback(stop, &run, seat.meter());
        run.store.epoch_deadline_callback(callback);
        run.store.set_epoch_deadline(1);
        let result = run.execute(prepared, event, limits, seat.meter()).await;
        let report = run.finish(result, prepared, event, limits, seat.meter());
        drop((seat, admitted));
        report
    }

    /// A fresh Store with the call's context, fuel and limiter.
    fn set_up(
        &self,
        prepared: &Prepared,
        setup: CallSetup,
        sources: &DataSources,
        limits: &Limits,
        event: Option<&Event>,
        started: Instant,
    ) -> Invocation {
        let deadline = started + limits.deadline;
        let allowances = Allowances {
            host_calls: limits.max_host_calls,
            output_bytes: limits.max_output_bytes,
            input_bytes: limits.max_input_bytes,
        };
        let call = Arc::new(
            CallContext::new(
                setup.merchant,
                setup.installation,
                setup.grant,
                setup.live,
                allowances,
            )
            .of_connector(&prepared.manifest.id),
        );
        call.take_input(event.map_or(0, |e| e.subject_id.len() as u64));
        let state = host_state(
            call.clone(),
            sources,
            limits,
            &prepared.connections,
            self.network.clone(),
            deadline,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        if let Err(err) = store.set_fuel(limits.fuel.unwrap_or(u64::MAX)) {
            tracing::error!(error = %err, "setting a call's fuel failed");
        }
        Invocation {
            store,
            call,
            clock: SharedClock::default(),
            started,
            deadline,
        }
    }
}

/// Checked at every epoch tick: whether the installation was disabled or removed, the
/// wall-clock deadline, the call's allowances, then its share of the worker threads. Between
/// ticks the guest yields to the executor, so a busy connector never holds a worker thread.
fn epoch_callback(
    stop: Option<(Arc<Signal>, u64)>,
    run: &Invocation,
    meter: Meter,
) -> impl FnMut(StoreContextMut<'_, HostState>) -> wasmtime::Result<UpdateDeadline> + Send + Sync + 'static
{
    let (quota, clock, deadline) = (run.call.clone(), run.clock.clone(), run.deadline);
    move |_| {
        if stop
            .as_ref()
            .is_some_and(|(signal, at)| signal.stopped_since(*at))
        {
            return Err(wasmtime::Error::new(Stopped));
        }
        if Instant::now() >= deadline {
            return Err(wasmtime::Error::new(Trap::Interrupt));
        }
        if let Some(limit) = quota.over_quota() {
            return Err(wasmtime::Error::new(limit));
        }
        let (fresh, used) = clock.with(|c| c.chargeable(Instant::now(), FREE_WORK));
        let pause = pause_at_tick(used, meter.charge_work(fresh));
        if pause > 0 {
            let sleep = tokio::time::sleep(EPOCH_TICK * pause);
            return Ok(UpdateDeadline::YieldCustom(1, Box::pin(sleep)));
        }
        // tokio's yield_now queues the call behind every task already waiting; a plain
        // self-wake could be polled again at once, ahead of them.
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(tokio::task::yield_now()),
        ))
    }
}

impl Invocation {
    /// Instantiate and call the export under the deadline; how it ended.
    async fn execute(
        &mut self,
        prepared: &Prepared,
        event: Option<&Event>,
        limits: &Limits,
        meter: Meter,
    ) -> CallResult {
        let wit_event = event.map(|event| wit::Event {
            id: event.id.clone(),
            topic: event.topic.as_str().to_owned(),
            subject_id: event.subject_id.clone(),
            occurred_at: event.occurred_at,
        });
        let store = &mut self.store;
        let run = async {
            let wait = pause_at_start(meter.charge_work(Duration::ZERO));
            if wait > 0 {
                tokio::time::sleep(EPOCH_TICK * wait).await;
            }
            let instance = prepared.pre.instantiate_async(&mut *store).await?;
            let handler = instance.airlock_connector_handler();
            match &wit_event {
                Some(wit_event) => handler.call_handle_event(&mut *store, wit_event).await,
                None => handler.call_health_check(&mut *store).await.map(|checked| {
                    checked.map(|()| wit::Outcome {
                        acted: false,
                        summary: "healthy".into(),
                    })
                }),
            }
        };
        // The epoch deadline stops guest code; this outer timeout also bounds time spent
        // waiting inside host calls, where no guest code runs.
        let run = Timed::new(run, self.clock.clone());
        let ended = tokio::time::timeout(limits.deadline + OUTER_GRACE, run).await;
        let hit = self.store.data().limits.hit;
        self.classify(ended, hit, limits)
    }

    /// How the call ended, from what the export returned (or that the outer timeout fired).
    fn classify(
        &self,
        ended: Result<wasmtime::Result<Result<wit::Outcome, wit::ConnectorError>>, Elapsed>,
        hit: Option<LimitHit>,
        limits: &Limits,
    ) -> CallResult {
        match ended {
            Ok(Ok(Ok(outcome))) if !self.call.put_out(outcome.summary.len() as u64) => {
                CallResult::Aborted {
                    reason: AbortReason::Output {
                        limit_bytes: limits.max_output_bytes,
                    },
                }
            }
            // Redacted, then sanitised and cut, in `finish`: cutting first could leave part
            // of a secret that straddles the cut.
            Ok(Ok(Ok(outcome))) => CallResult::Done {
                acted: outcome.acted,
                summary: outcome.summary,
            },
            Ok(Ok(Err(error))) => CallResult::Failed {
                error: failure(error),
            },
            Ok(Err(trap)) => CallResult::Aborted {
                reason: abort_reason(&trap, hit, limits),
            },
            Err(_elapsed) => CallResult::Aborted {
                reason: AbortReason::Deadline {
                    limit_ms: limits.deadline.as_millis() as u64,
                },
            },
        }
    }

    /// Charge the rest of the call's work, redact everything it leaves, and write the report.
    fn finish(
        mut self,
        result: CallResult,
        prepared: &Prepared,
        event: Option<&Event>,
        limits: &Limits,
        meter: Meter,
    ) -> InvocationReport {
        // What ran since the last tick is charged too, so a long call that ends between
        // ticks pays for all of its worker time.
        let (rest, busy) = self.clock.with(|c| c.chargeable(Instant::now(), FREE_WORK));
        meter.charge_work(rest);
        let fuel_used = limits
            .fuel
            .map(|budget| budget.saturating_sub(self.store.get_fuel().unwrap_or(0)));
        let call = &self.call;
        let stderr = super::wasi::stderr_lines(&self.store.data().stderr, call);
        let peak_memory_bytes = self.store.data().limits.peak_memory as u64;
        let log = &mut self.store.data_mut().caps.log;
        // Nothing the call leaves behind may carry a secret it saw, in any encoding.
        let logs = std::mem::take(&mut log.lines)
            .into_iter()
            .map(|line| LogLine {
                message: sanitize(&call.redact(&line.message), MAX_LINE_CHARS),
                ..line
            })
            .collect();
        let report = InvocationReport {
            installation: call.installation.clone(),
            connector: prepared.manifest.id.clone(),
            export: if event.is_some() {
                "handle-event"
            } else {
                "health-check"
            },
            event: event.cloned(),
            result: redact_result(result, call),
            accesses: call.accesses(),
            logs,
            logs_dropped: log.dropped,
            stderr,
            outbound: call.outbound(),
            host_calls: call.host_calls(),
            elapsed_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            busy_ms: busy.as_secs_f64() * 1000.0,
            fuel_used,
            peak_memory_bytes,
            limits: limits.clone(),
            staged_paid: call.staged_paid(),
            keys_used: call.keys_used(),
        };
        self.release();
        report
    }

    /// Return the Store to the pool. Decommitting a big instance's memory (tens of MiB) is a
    /// blocking syscall: do it off the async workers, which other merchants' calls share.
    /// Small ones (nearly all) are cheaper to drop here than to hand to another thread.
    fn release(self) {
        let store = self.store;
        if store.data().limits.peak_memory > BIG_MEMORY
            && tokio::runtime::Handle::try_current().is_ok()
        {
            drop(tokio::task::spawn_blocking(move || drop(store)));
        }
    }
}
