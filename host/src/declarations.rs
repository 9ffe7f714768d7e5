//! Manifest declarations an import audit ([`crate::imports`]) finds missing or unused, in the
//! publisher's terms: each missing one with the manifest line that fixes it, each unused one
//! with what it costs the merchant. Plain data below both the artifact errors and the audit.

use std::fmt;

use crate::grants::Scope;
use crate::prompt_text::{Language, phrases, scope as scope_text};

/// Something an import needs that the manifest does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// An interface whose one scope the manifest declares neither required nor optional.
    Scope {
        /// The import, such as `airlock:connector/order-updates@0.2.0`.
        import: String,
        /// The scope importing it needs.
        scope: Scope,
    },
    /// `secrets` imported while the manifest declares no secret `readable = true`.
    ReadableSecret {
        /// The import.
        import: String,
    },
    /// `wasi:http` imported while the manifest declares no `[[http]]` origin.
    Origin {
        /// The (first) `wasi:http` import.
        import: String,
    },
}

impl Missing {
    /// The import that needs it.
    pub fn import(&self) -> &str {
        match self {
            Missing::Scope { import, .. }
            | Missing::ReadableSecret { import }
            | Missing::Origin { import } => import,
        }
    }

    /// The manifest lines that fix it.
    pub fn fix(&self) -> String {
        match self {
            Missing::Scope { scope, .. } => format!(
                "add `[[scopes.required]]` with `scope = \"{scope}\"` and a `reason` (or \
                 `[[scopes.optional]]` if the connector works without it)"
            ),
            Missing::ReadableSecret { .. } => "declare the secret under `[[secrets]]` with \
                 `readable = true`, or stop importing `secrets` and attach the key with a \
                 {{secret:NAME}} header instead of reading it"
                .to_owned(),
            Missing::Origin { .. } => {
                "add an `[[http]]` entry with `origin` and `reason` for each origin it calls"
                    .to_owned()
            }
        }
    }

    /// Whether it is the missing-origin problem (reported once for all `wasi:http` imports).
    pub(crate) fn is_origin(&self) -> bool {
        matches!(self, Missing::Origin { .. })
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let import = crate::text::sanitize_quoted(self.import(), 128);
        match self {
            Missing::Scope { scope, .. } => write!(f, "`{import}` needs the scope `{scope}`")?,
            Missing::ReadableSecret { .. } => {
                write!(f, "`{import}` needs a secret declared `readable = true`")?
            }
            Missing::Origin { .. } => write!(f, "`{import}` needs an `[[http]]` origin")?,
        }
        write!(f, ": {}", self.fix())
    }
}

/// Something the manifest declares that no import uses. Allowed, but the merchant's prompt
/// still shows it: the app looks able to do more than its code can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unused {
    /// A scope no imported interface needs or unlocks and no subscribed event needs.
    Scope {
        /// The scope.
        scope: Scope,
        /// Declared required (the merchant cannot install the app without granting it).
        required: bool,
    },
    /// A secret declared `readable = true` while the component never imports `secrets`.
    ReadableSecret {
        /// The secret's name.
        name: String,
    },
    /// `[[http]]` origins declared while the component never imports `wasi:http`.
    Origins {
        /// How many.
        count: usize,
    },
}

impl Unused {
    /// What the declaration costs the merchant, in words: what the prompt claims for it.
    pub fn cost(&self) -> String {
        let words = phrases(Language::En);
        match self {
            Unused::Scope { scope, required } => {
                let (title, _) = scope_text(*scope, Language::En);
                let claim = if scope.is_write() {
                    format!("the app {} (\"{title}\")", words.can_change)
                } else if scope.is_personal_data() {
                    format!("the app sees {} (\"{title}\")", words.personal)
                } else {
                    format!("the merchant must share \"{title}\"")
                };
                let refusal = if *required {
                    "; a merchant who declines it cannot install the app"
                } else {
                    ""
                };
                format!("the prompt says {claim} though no import can use it{refusal}")
            }
            Unused::ReadableSecret { .. } => format!(
                "the prompt says {} though the code never reads it",
                words.readable
            ),
            Unused::Origins { count } => format!(
                "the prompt lists {count} server(s) the app sends data to though it makes no \
                 requests"
            ),
        }
    }

    /// The manifest change that removes the cost.
    pub fn fix(&self) -> String {
        match self {
            Unused::Scope { scope, required } => {
                let table = if *required { "required" } else { "optional" };
                format!("remove `{scope}` from `[[scopes.{table}]]`")
            }
            Unused::ReadableSecret { name } => format!(
                "remove `readable = true` from secret `{name}` (the host still attaches it in a \
                 {{{{secret:{name}}}}} header)"
            ),
            Unused::Origins { .. } => "remove the `[[http]]` entries".to_owned(),
        }
    }
}

impl fmt::Display for Unused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unused::Scope { scope, .. } => write!(f, "`{scope}` is declared but unused")?,
            Unused::ReadableSecret { name } => write!(
                f,
                "secret `{}` is declared `readable = true` but `secrets` is not imported",
                crate::text::sanitize_quoted(name, 64)
            )?,
            Unused::Origins { .. } => {
                write!(f, "origins are declared but `wasi:http` is not imported")?
            }
        }
        write!(f, ": {}; {}", self.cost(), self.fix())
    }
}
