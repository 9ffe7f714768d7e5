//! Request and response bodies cut off at a byte cap and at the call's deadline, drawing on
//! the call's byte allowances as they pass.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use wasmtime_wasi_http::Error as HttpError;

use crate::call::CallContext;

/// How a body draws on one of the call's byte allowances (`CallContext::put_out` or
/// `take_input`).
pub(super) type Charge = fn(&CallContext, u64) -> bool;

/// A body cut off at `cap` bytes and at the call's deadline, counting what passed.
pub(super) struct Capped<B> {
    inner: B,
    seen: u64,
    cap: u64,
    counter: Arc<AtomicU64>,
    deadline: Pin<Box<tokio::time::Sleep>>,
    over: fn(u64) -> HttpError,
    /// The call's byte allowance this body draws on (input for responses, output for requests).
    allowance: Option<(Arc<CallContext>, Charge)>,
}

impl<B> Capped<B> {
    pub(super) fn new(
        inner: B,
        cap: u64,
        deadline: tokio::time::Instant,
        counter: Arc<AtomicU64>,
        over: fn(u64) -> HttpError,
    ) -> Self {
        Capped {
            inner,
            seen: 0,
            cap,
            counter,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            over,
            allowance: None,
        }
    }

    pub(super) fn drawing_on(mut self, call: Arc<CallContext>, charge: Charge) -> Self {
        self.allowance = Some((call, charge));
        self
    }
}

impl<B> Body for Capped<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<HttpError>,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(mut frame))) => {
                // Trailers are headers too: a provider echoing a key in one must not hand it
                // to the connector.
                if let (Some(trailers), Some((call, _))) = (frame.trailers_mut(), &this.allowance) {
                    call.redact_headers(trailers);
                }
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if this.seen > this.cap {
                        return Poll::Ready(Some(Err((this.over)(this.cap))));
                    }
                    if let Some((call, charge)) = &this.allowance
                        && !charge(call, data.len() as u64)
                    {
                        return Poll::Ready(Some(Err((this.over)(this.seen))));
                    }
                    this.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use http_body_util::BodyExt;

    use super::*;

    /// A body that yields the frames it was given.
    struct Frames(VecDeque<Frame<Bytes>>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = HttpError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
            Poll::Ready(self.0.pop_front().map(Ok))
        }
    }
    use crate::call::Allowances;
    use crate::grants::{Grant, ScopeSet};
    use crate::ids::{InstallationId, MerchantId};

    #[tokio::test]
    async fn a_key_echoed_in_a_response_trailer_is_redacted() {
        let call = Arc::new(CallContext::new(
            MerchantId::new("shop"),
            InstallationId::generate(),
            Grant::new(ScopeSet::all(), ScopeSet::all(), ScopeSet::all()),
            None,
            Allowances {
                host_calls: 10,
                output_bytes: 4096,
                input_bytes: 4096,
            },
        ));
        call.remember_secret("sk_live_trailer_key");
        let mut trailers = http::HeaderMap::new();
        trailers.insert(
            "x-echo",
            http::HeaderValue::from_bytes(b"\xe9Bearer sk_live_trailer_key").unwrap(),
        );
        let body = Frames(VecDeque::from([
            Frame::data(Bytes::from_static(b"{}")),
            Frame::trailers(trailers),
        ]));
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        let capped = Capped::new(body, 1024, deadline, Arc::new(AtomicU64::new(0)), |n| {
            HttpError::HttpResponseBodySize(Some(n))
        })
        .drawing_on(call, CallContext::take_input);
        let collected = capped.collect().await.unwrap();
        let seen = collected.trailers().unwrap()["x-echo"].as_bytes().to_vec();
        assert_eq!(seen, b"\xe9Bearer [REDACTED]");
    }
}
