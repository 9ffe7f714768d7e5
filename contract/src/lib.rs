//! The contract between the Airlock host and every connector SDK: the scope names manifests,
//! prompts and the audit log spell, and the rule that turns a provider's HTTP answer into the
//! cause a merchant sees, and the frame the manifest travels in. One implementation, so the host and the SDKs cannot disagree.
//!
//! Pure and dependency-free (serde is optional, for the host): it builds for the host and for
//! `wasm32-wasip2` alike, and nothing here reads a clock or does I/O.

mod cause;
mod http_date;
mod manifest_frame;
mod scope;

pub use cause::{ProviderAnswer, ProviderCause, provider_cause, retry_after_secs};
pub use http_date::http_date;
pub use manifest_frame::{
    FrameError, MANIFEST_FRAME_HEADER, MANIFEST_FRAME_MAGIC, frame_manifest, manifest_frame_header,
    read_manifest_frame,
};
pub use scope::{Scope, UnknownScope};
