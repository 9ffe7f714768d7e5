//! `airlock:connector/log`: lines the merchant and platform can read. Needs no scope; capped
//! in count and length per invocation, control characters replaced.

use std::sync::Arc;

use serde::Serialize;

use crate::bindings::airlock::connector::log::{Host, Level};
use crate::state::CallContext;

/// Longest line kept, in characters; longer lines are cut and marked.
pub const MAX_LINE_CHARS: usize = 1024;

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
    pub(crate) fn new(call: Arc<CallContext>, max_lines: usize) -> Self {
        LogState {
            call,
            max_lines,
            lines: Vec::new(),
            dropped: 0,
        }
    }
}

/// Replace control characters (terminal escapes included) and cap the length.
pub(crate) fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

impl Host for LogState {
    async fn write(&mut self, level: Level, message: String) {
        if self.lines.len() >= self.max_lines || !self.call.put_out(message.len() as u64) {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
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
    use super::sanitize;

    #[test]
    fn terminal_escapes_and_newlines_cannot_reach_the_merchant_terminal() {
        assert_eq!(sanitize("ok\x1b[2Jwiped\nnext", 100), "ok [2Jwiped next");
        assert_eq!(sanitize("abcdef", 3), "abc…");
    }
}
