//! Each app's data-access report on the app screen: what it read and changed per scope, the
//! servers it contacted, the keys it used, and scopes approved but unused over the window,
//! each with a one-click revoke. Waits for the host's report (issue 13, point 6).

use airlock_host::{Error, Installation};

use super::PageState;
use super::session::Signed;
use super::views::ReportView;

/// The report section of `app`'s screen, when the host can say.
pub(crate) async fn view(
    _state: &PageState,
    _signed: &Signed,
    _app: &Installation,
) -> Result<Option<ReportView>, Error> {
    Ok(None)
}
