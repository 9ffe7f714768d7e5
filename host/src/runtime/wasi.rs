//! The WASI functions that do host-side work no fuel, deadline or memory cap sees, bounded
//! per call. Guest code is metered by fuel, stopped by the epoch at its deadline and capped by
//! the limiter; a host function runs to its end whatever the call's budget says. So:
//!
//! - `wasi:random` byte requests are capped per request ([`MAX_RANDOM_REQUEST`], the same
//!   64 KiB a browser's `crypto.getRandomValues` allows) and charged to the call's input
//!   allowance before anything is allocated; Wasmtime's own default allows 64 MiB at a time;
//! - stdout and stderr are the call's own streams: every byte written is charged to its output
//!   allowance, stdout is discarded, and the start of stderr is kept for the report (a panic
//!   message, an uncaught exception), redacted like the call's logs;
//! - `wasi:io/poll.poll` takes at most [`MAX_POLL_LIST`] pollables, since the host walks the
//!   whole list on every wake-up; waiting itself is bounded by the call's deadline (the outer
//!   timeout in `invoke`);
//! - a call holds at most [`MAX_RESOURCES`] WASI resources at once (each is host memory).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamError, StreamResult};

use super::state::HostState;
use crate::call::CallContext;
use crate::capabilities::log::MAX_LINE_CHARS;
use crate::report::AbortReason;
use crate::text::sanitize;

/// Bytes one `get-random-bytes` (or `get-insecure-random-bytes`) request may ask for.
pub const MAX_RANDOM_REQUEST: u64 = 64 * 1024;

/// Pollables one `poll` call may wait on.
pub const MAX_POLL_LIST: usize = 1024;

/// Bytes of stderr kept for the report; the rest is counted and dropped.
pub const STDERR_KEPT: usize = 8 * 1024;

/// Lines of stderr shown in the report.
const STDERR_LINES: usize = 100;

/// Bytes a stream tells the guest it may write at once.
const WRITE_PERMIT: usize = 64 * 1024;

/// The WASI random interfaces as Wasmtime 48 defines them (a component importing any 0.2.x
/// version links to these).
const RANDOM: &str = "wasi:random/random@0.2.12";
const INSECURE: &str = "wasi:random/insecure@0.2.12";
const POLL: &str = "wasi:io/poll@0.2.12";

/// A WASI request the host refuses, ending the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    /// More random bytes than one request may have.
    #[error("asked for {asked} random bytes in one request; at most {MAX_RANDOM_REQUEST}")]
    Random {
        /// Bytes asked for.
        asked: u64,
    },
    /// More pollables than one `poll` may wait on.
    #[error("polled {len} pollables at once; at most {MAX_POLL_LIST}")]
    PollList {
        /// Pollables passed.
        len: usize,
    },
    /// More resources (streams, pollables, HTTP handles) held at once than one call may.
    #[error("held more than {MAX_RESOURCES} WASI resources at once")]
    Resources,
}

/// Resources (streams, pollables, HTTP handles) one call may hold at once in its WASI table.
/// Each is host memory outside the call's memory cap, and Wasmtime's default allows a
/// million. A connector holds a handful per outbound request, and makes at most 20.
pub const MAX_RESOURCES: usize = 4096;

/// Replace Wasmtime's random-byte and poll functions with bounded ones (shadowing is on only
/// for these few definitions).
pub(super) fn bound_wasi(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.instance(RANDOM)?.func_wrap(
        "get-random-bytes",
        |store: StoreContextMut<'_, HostState>, (len,): (u64,)| {
            Ok((random_bytes(&store.data().call, len)?,))
        },
    )?;
    linker.instance(INSECURE)?.func_wrap(
        "get-insecure-random-bytes",
        |store: StoreContextMut<'_, HostState>, (len,): (u64,)| {
            Ok((random_bytes(&store.data().call, len)?,))
        },
    )?;
    linker.instance(POLL)?.func_wrap_async(
        "poll",
        |mut store: StoreContextMut<'_, HostState>, (list,): (Vec<Resource<DynPollable>>,)| {
            Box::new(async move {
                if list.len() > MAX_POLL_LIST {
                    return Err(wasmtime::Error::new(Refused::PollList { len: list.len() }));
                }
                let table = &mut store.data_mut().table;
                let ready = wasmtime_wasi_io::bindings::wasi::io::poll::Host::poll(table, list);
                Ok((ready.await?,))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// `len` bytes from the OS's CSPRNG (for the insecure interface too: cheaper than a second
/// generator to reason about), once the request is within its cap and the call's input
/// allowance.
fn random_bytes(call: &CallContext, len: u64) -> wasmtime::Result<Vec<u8>> {
    if len > MAX_RANDOM_REQUEST {
        return Err(wasmtime::Error::new(Refused::Random { asked: len }));
    }
    if !call.take_input(len) {
        return Err(spent(call));
    }
    let mut bytes = vec![0u8; len as usize];
    getrandom::fill(&mut bytes).map_err(|e| wasmtime::format_err!("the OS random source: {e}"))?;
    Ok(bytes)
}

/// The allowance the call just ran through, as the error that ends it.
fn spent(call: &CallContext) -> wasmtime::Error {
    match call.over_quota() {
        Some(spent) => wasmtime::Error::new(spent),
        None => wasmtime::format_err!("an allowance ran out"),
    }
}

/// What a call wrote to stderr, up to [`STDERR_KEPT`] bytes.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    bytes: Vec<u8>,
    cut: bool,
}

/// Stdout or stderr of one call: every byte charged to the call's output allowance, stderr's
/// first bytes kept. Cloned for each `get-stdout`/`get-stderr`, sharing what is kept.
#[derive(Clone)]
pub(crate) struct CallOutput {
    call: Arc<CallContext>,
    kept: Option<Arc<Mutex<Kept>>>,
}

impl CallOutput {
    /// Stdout: charged, then discarded.
    pub(crate) fn discarded(call: Arc<CallContext>) -> Self {
        CallOutput { call, kept: None }
    }

    /// Stderr: charged, and its start kept in `kept`.
    pub(crate) fn kept(call: Arc<CallContext>, kept: Arc<Mutex<Kept>>) -> Self {
        CallOutput {
            call,
            kept: Some(kept),
        }
    }

    fn take(&self, bytes: &[u8]) -> Result<(), wasmtime::Error> {
        if !self.call.put_out(bytes.len() as u64) {
            return Err(spent(&self.call));
        }
        if let Some(kept) = &self.kept {
            let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
            let room = STDERR_KEPT.saturating_sub(kept.bytes.len());
            let n = room.min(bytes.len());
            kept.bytes.extend_from_slice(&bytes[..n]);
            kept.cut |= n < bytes.len();
        }
        Ok(())
    }
}

impl OutputStream for CallOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.take(&bytes).map_err(StreamError::Trap)
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

#[async_trait::async_trait]
impl Pollable for CallOutput {
    async fn ready(&mut self) {}
}

impl IsTerminal for CallOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CallOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for CallOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.take(buf)
                .map(|()| buf.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The kept stderr as report lines: redacted with every secret the call saw, then each line
/// sanitised and cut. When the kept bytes were cut mid-line, that last partial line is
/// dropped, since a secret straddling the cut would escape redaction there.
pub(crate) fn stderr_lines(kept: &Mutex<Kept>, call: &CallContext) -> Vec<String> {
    let kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
    let mut raw = String::from_utf8_lossy(&kept.bytes).into_owned();
    if kept.cut {
        raw.truncate(raw.rfind('\n').map_or(0, |at| at + 1));
    }
    let text = call.redact(&raw);
    let mut lines: Vec<String> = text
        .lines()
        .take(STDERR_LINES)
        .map(|line| sanitize(line, MAX_LINE_CHARS))
        .collect();
    if kept.cut || text.lines().count() > STDERR_LINES {
        lines.push(format!(
            "[stderr cut: only its first {STDERR_KEPT} bytes are kept]"
        ));
    }
    lines
}

impl Refused {
    /// The refused request `err` stands for, if it is one: ours, or a full resource table.
    pub(super) fn of(err: &wasmtime::Error) -> Option<Refused> {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return Some(*refused);
        }
        match err.downcast_ref::<wasmtime::component::ResourceTableError>() {
            Some(wasmtime::component::ResourceTableError::Full) => Some(Refused::Resources),
            _ => None,
        }
    }

    /// The abort reason of a call that made this request.
    pub(super) fn reason(self) -> AbortReason {
        match self {
            Refused::Random { .. } => AbortReason::Wasi {
                what: "get-random-bytes".into(),
                limit: MAX_RANDOM_REQUEST,
            },
            Refused::PollList { .. } => AbortReason::Wasi {
                what: "poll".into(),
                limit: MAX_POLL_LIST as u64,
            },
            Refused::Resources => AbortReason::Wasi {
                what: "resources".into(),
                limit: MAX_RESOURCES as u64,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{Allowances, Spent};
    use crate::grants::Grant;
    use crate::ids::{InstallationId, MerchantId};

    fn call(output_bytes: u64) -> Arc<CallContext> {
        Arc::new(CallContext::new(
            MerchantId::new("m"),
            InstallationId::new("i"),
            Grant::none(),
            None,
            Allowances {
                host_calls: 10,
                output_bytes,
                input_bytes: 10,
            },
        ))
    }

    #[test]
    fn stderr_is_kept_redacted_and_cut_at_a_line() {
        let call = call(1 << 20);
        call.remember_secret("sk_live_SECRET");
        let kept = Arc::new(Mutex::new(Kept::default()));
        let mut stderr = CallOutput::kept(call.clone(), kept.clone());
        stderr
            .write(Bytes::from(
                "panicked: key sk_live_SECRET\x1b[2J\nsecond line\n",
            ))
            .unwrap();
        assert_eq!(
            stderr_lines(&kept, &call),
            // The escape byte is shown, never passed to a terminal.
            ["panicked: key [REDACTED]\\u{1b}[2J", "second line"]
        );
        // Past the kept bytes: the cut line goes, whatever it held.
        let tail = format!("{}sk_live_SEC", "y".repeat(STDERR_KEPT));
        stderr.write(Bytes::from(tail)).unwrap();
        let lines = stderr_lines(&kept, &call);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[2].starts_with("[stderr cut"), "{lines:?}");
    }

    #[test]
    fn output_past_the_allowance_ends_the_call_with_it() {
        let call = call(10);
        let mut stdout = CallOutput::discarded(call.clone());
        stdout.write(Bytes::from("0123456789")).unwrap();
        let Err(StreamError::Trap(err)) = stdout.write(Bytes::from("x")) else {
            panic!("an 11th byte is refused");
        };
        assert_eq!(err.downcast_ref::<Spent>(), Some(&Spent::Output(10)));
    }

    #[test]
    fn random_requests_are_capped_and_charged_before_allocating() {
        let call = call(10);
        let err = random_bytes(&call, MAX_RANDOM_REQUEST + 1).unwrap_err();
        assert!(err.downcast_ref::<Refused>().is_some());
        assert_eq!(random_bytes(&call, 10).unwrap().len(), 10);
        let err = random_bytes(&call, 1).unwrap_err();
        assert_eq!(err.downcast_ref::<Spent>(), Some(&Spent::Input(10)));
    }
}
