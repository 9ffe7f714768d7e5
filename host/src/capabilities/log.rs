//! `airlock:connector/log`: lines the merchant and platform can read. Needs no scope; capped
//! in count and length per invocation, control characters replaced.

use std::sync::Arc;

use serde::Serialize;

use crate::bindings::airlock::connector::log::{Host, Level};
use super::{Deps, Descriptor, Requirement};
use crate::call::{CallContext, Served};

/// Longest line kept, in characters; longer lines are cut and marked.
pub const MAX_LINE_CHARS: usize = 1024;

/// `airlock:connector/log`: no scope; capped per call.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "log",
    needs: Requirement::OwnSpace,
    functions: &["write"],
    unlocks: &[],
};

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Worth a look.
    Warn,
    /// A failure.
    Error,
}

/// One line a connector logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Severity.
    pub level: LogLevel,
    /// The text, sanitised and capped.
    pub message: String,
}

/// The log capability of one invocation.
pub(crate) struct LogState {
    call: Arc<CallContext>,
    max_lines: usize,
    pub(crate) lines: Vec<LogLine>,
    pub(crate) dropped: u32,
}

impl LogState {
    pub(crate) fn new(deps: &Deps) -> Self {
        LogState {
            call: deps.call.clone(),
            max_lines: deps.max_log_lines,
            lines: Vec::new(),
            dropped: 0,
        }
    }
}

/// Replace control characters (terminal escapes included) and cap the length.
impl Host for LogState {
    async fn write(&mut self, level: Level, message: String) {
        const OP: &str = "log.write";
        // The same gate as every host call: the host-call quota, and no line once the app was
        // disabled, removed or revoked. `write` returns nothing, so a refused line is dropped.
        if self.call.admit(OP, None).await.is_err() {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        if self.lines.len() >= self.max_lines || !self.call.put_out(message.len() as u64) {
            self.call.record(OP, None, Served::Failed);
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.call.record(OP, None, Served::Records(1));
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.lines.push(LogLine {
            level,
            // Kept raw (bounded) so the report can redact before it sanitises and cuts.
            message: message.chars().take(MAX_LINE_CHARS * 4).collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Approvals, call, data, deps, installation, live_call};
    use super::*;
    use crate::live::Signals;

    #[tokio::test]
    async fn lines_are_kept_up_to_the_cap_and_the_rest_counted() {
        let own = call(&[], 10);
        let mut state = LogState::new(&deps(&own, &data(), &[]));
        for n in 0..5 {
            state.write(Level::Info, format!("line {n}")).await;
        }
        assert_eq!(state.lines.len(), 3, "the test cap is 3 lines");
        assert_eq!(state.dropped, 2);
        assert_eq!(state.lines[0].level, LogLevel::Info);
        assert_eq!(state.lines[2].message, "line 2");
    }

    #[tokio::test]
    async fn lines_count_against_the_host_call_quota_and_stop_with_the_app() {
        let own = call(&[], 2);
        let mut state = LogState::new(&deps(&own, &data(), &[]));
        for n in 0..3 {
            state.write(Level::Info, format!("line {n}")).await;
        }
        assert_eq!(state.lines.len(), 2, "the third is over the quota of 2");
        assert!(own.over_quota().is_some());

        let (signals, approvals) = (Signals::default(), Arc::new(Approvals::default()));
        let live = live_call(&[], &signals, &approvals);
        let mut state = LogState::new(&deps(&live, &data(), &[]));
        state.write(Level::Info, "before".into()).await;
        approvals.set(None);
        signals.stopped(&installation());
        state.write(Level::Info, "after the app was disabled".into()).await;
        assert_eq!(state.lines.len(), 1);
        assert_eq!(state.dropped, 1);
    }

    #[tokio::test]
    async fn lines_draw_on_the_output_allowance() {
        let own = call(&[], 10);
        let mut state = LogState::new(&deps(&own, &data(), &[]));
        state.write(Level::Error, "x".repeat(5000)).await;
        assert!(state.lines.is_empty());
        assert_eq!(state.dropped, 1);
        assert!(own.over_quota().is_some());
    }
}
