//! The library's error type: every variant says what went wrong and what to do about it.
//! Values a publisher, connector or caller chose are shown visibly escaped
//! ([`crate::text`]), so an error printed to a terminal or a web page cannot carry control
//! bytes, bidi overrides or a quote that closes the message's own.

use crate::artifact::ArtifactError;
use crate::db::DbError;
use crate::grants::{Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::status::InstallationStatus;
use crate::text::{sanitize_quoted, terminal_safe};

/// A value shown in backticks inside an error message.
fn shown(value: &str) -> String {
    sanitize_quoted(value, 128)
}

/// Why a host operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The artifact was refused; nothing was stored.
    // Not `#[from]`: that would also make it the source, and `{:#}` would print it twice.
    // Whole and terminal-safe: its variants quote import names, signature and manifest text.
    #[error("artifact refused: {}", terminal_safe(&.0.to_string()))]
    Artifact(ArtifactError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Wasmtime could not start.
    #[error("could not start the WebAssembly engine: {0}")]
    Engine(String),
    /// No live API token has this id.
    #[error("no live API token `{0}`; `airlock tokens list` shows them")]
    UnknownToken(String),
    /// An API token could not be made.
    #[error(transparent)]
    Token(#[from] crate::tokens::TokenError),
    /// No such merchant.
    #[error("merchant `{0}` not found; create it first (the demo store is `demo-store`)")]
    UnknownMerchant(MerchantId),
    /// The merchant's plan has no free connected-app slot.
    #[error(
        "plan `{plan}` allows {slots} connected app(s) and {used} are installed; uninstall an app or \
         move merchant `{merchant}` to a larger plan"
    )]
    PlanLimit {
        /// The merchant.
        merchant: MerchantId,
        /// The plan's name.
        plan: String,
        /// Slots on the plan.
        slots: i64,
        /// Slots in use.
        used: i64,
    },
    /// The connector is already installed for this merchant.
    #[error("`{connector}` is already installed for this merchant as {installation}")]
    AlreadyInstalled {
        /// The connector id.
        connector: String,
        /// The existing installation.
        installation: InstallationId,
    },
    /// No installation matches.
    #[error(
        "merchant `{merchant}` has no installation `{}`; `airlock list --merchant {merchant}` shows what is installed",
        shown(.key)
    )]
    NotInstalled {
        /// The merchant.
        merchant: MerchantId,
        /// What was looked for.
        key: String,
    },
    /// A scope to approve is not one of the connector's optional scopes.
    #[error(
        "`{scope}` is not an optional scope of `{connector}`; its optional scopes are: {optional}"
    )]
    NotOptional {
        /// The scope asked for.
        scope: Scope,
        /// The connector.
        connector: String,
        /// What it does offer.
        optional: ScopeSet,
    },
    /// The platform's policy forbids a scope the connector requires.
    #[error(
        "platform policy does not allow `{scope}`, which `{connector}` requires; it cannot be installed here"
    )]
    PolicyForbids {
        /// The scope.
        scope: Scope,
        /// The connector.
        connector: String,
    },
    /// The installation cannot run in its current state.
    #[error("installation {installation} is {status}; {hint}")]
    NotActive {
        /// The installation.
        installation: InstallationId,
        /// Its status (`pending`, `disabled`), or why it is not running (`no longer active`
        /// when it changed while the call was being set up).
        status: String,
        /// What to do.
        hint: &'static str,
    },
    /// A required scope cannot be withdrawn on its own.
    #[error("`{scope}` is required by `{connector}`; revoke the whole app or uninstall it instead")]
    RequiredScope {
        /// The scope.
        scope: Scope,
        /// The connector.
        connector: String,
    },
    /// The scope to withdraw is not approved.
    #[error("`{scope}` is not approved for {installation}, so there is nothing to revoke")]
    NotApproved {
        /// The scope.
        scope: Scope,
        /// The installation.
        installation: InstallationId,
    },
    /// The installation is not in the state the action needs.
    #[error("cannot {action} {installation}: it is {status}, and {action} needs it {needs}")]
    BadTransition {
        /// The installation.
        installation: InstallationId,
        /// Its status.
        status: InstallationStatus,
        /// What was asked.
        action: &'static str,
        /// The status the action needs.
        needs: InstallationStatus,
    },
    /// The upgrade is another connector, or another publisher's.
    #[error(
        "an upgrade must keep the connector's {field}: `{}` is not `{}`",
        shown(.offered),
        shown(.current)
    )]
    NotSuccessor {
        /// `id` or `publisher`.
        field: &'static str,
        /// What is installed.
        current: String,
        /// What was offered.
        offered: String,
    },
    /// The upgrade is not a newer version.
    #[error(
        "version {} is not newer than the installed {}; downgrades are refused",
        shown(.offered),
        shown(.current)
    )]
    NotNewer {
        /// Installed version.
        current: String,
        /// Offered version.
        offered: String,
    },
    /// An approval named a version that is not the one waiting for approval (another upgrade
    /// replaced it, or it was never offered).
    #[error(
        "{installation} is not waiting for {named}: what waits now is version {version} \
         ({waiting}); `airlock prompt --merchant {merchant} {installation}` shows it, then \
         approve it with `--digest {waiting}`"
    )]
    NotWaiting {
        /// The merchant.
        merchant: MerchantId,
        /// The installation.
        installation: InstallationId,
        /// The digest the approval named.
        named: String,
        /// The digest that waits (`sha256:...`).
        waiting: String,
        /// Its version.
        version: String,
    },
    /// Another change to the installation committed while this one was being prepared.
    #[error("{installation} changed while the {action} was being prepared; run the {action} again")]
    Concurrent {
        /// The installation.
        installation: InstallationId,
        /// What was being done.
        action: &'static str,
    },
    /// A publisher key given to `trust_key` is not an ed25519 public key.
    #[error(
        "`{}` is not an ed25519 public key: give the 64 hex characters `airlock keys generate` printed",
        shown(.0)
    )]
    BadKey(String),
    /// A direct delivery of a topic whose scope the installation does not hold: the event
    /// alone (that the record exists, and its id) is what the scope protects.
    #[error(
        "installation {installation} does not hold `{scope}`, which `{topic}` events need; approve it first (`airlock approve --optional {scope}`)"
    )]
    TopicNotGranted {
        /// The installation.
        installation: InstallationId,
        /// The topic asked for.
        topic: crate::topics::Topic,
        /// The scope the topic needs.
        scope: Scope,
    },
    /// No delivery with that id for this merchant.
    #[error(
        "delivery `{0}` not found for this merchant; `airlock deliveries list` shows its deliveries"
    )]
    UnknownDelivery(String),
    /// An event's subject id is unusable.
    #[error("subject id must be 1 to 128 bytes without control characters")]
    BadSubject,
    /// No plan with that id.
    #[error("plan `{}` not found (the demo plans are `starter` and `growth`)", shown(.0))]
    UnknownPlan(String),
    /// A secret name the connector's manifest does not declare.
    #[error(
        "`{connector}` declares no secret `{}`; its secrets are: {declared}",
        shown(.name)
    )]
    SecretNotDeclared {
        /// The name given.
        name: String,
        /// The connector.
        connector: String,
        /// The names it declares.
        declared: String,
    },
    /// Set of a secret already set, or rotation of one never set.
    #[error("secret `{}` of {installation} {problem}", shown(.name))]
    SecretState {
        /// The secret.
        name: String,
        /// The installation.
        installation: InstallationId,
        /// What is wrong and the fix.
        problem: &'static str,
    },
    /// The vault or its table refused.
    #[error(transparent)]
    Secret(crate::db::secrets::SecretError),
}

impl From<ArtifactError> for Error {
    fn from(err: ArtifactError) -> Self {
        Error::Artifact(err)
    }
}

impl From<crate::db::secrets::SecretError> for Error {
    fn from(err: crate::db::secrets::SecretError) -> Self {
        match err {
            // A database failure reads the same wherever it happens.
            crate::db::secrets::SecretError::Db(db) => Error::Db(db),
            other => Error::Secret(other),
        }
    }
}
