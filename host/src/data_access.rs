//! Each app's data-access report: over a window (30 days by default), what it read and
//! changed per scope, which origins it called and how often, which of its keys it opened, and
//! which granted scopes it never used — what a merchant answers a customer's data request
//! with, and what keeps least privilege true after the approval. Pure data and its CSV form;
//! the host builds it from the audit log (`host/data_access.rs`).

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::grants::Scope;

/// The window a report covers when none is given.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 86_400);

/// Longest window a report may cover: audit lines are kept a year by default.
pub const MAX_WINDOW: Duration = Duration::from_secs(400 * 86_400);

/// What a merchant's apps accessed over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DataAccessReport {
    /// The merchant.
    pub merchant: String,
    /// Start of the window, milliseconds since the Unix epoch.
    pub since_ms: i64,
    /// End of the window (when the report was made).
    pub until_ms: i64,
    /// One entry per app, installed now or removed within the window.
    pub apps: Vec<AppAccess>,
}

/// What one app accessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AppAccess {
    /// The installation.
    pub installation: String,
    /// The connector id.
    pub connector: String,
    /// Its display name (the connector id for a removed app).
    pub name: String,
    /// False once the app was removed (what it accessed before still counts).
    pub installed: bool,
    /// Records read, per read scope (only scopes it used).
    pub reads: Vec<ScopeUse>,
    /// Records changed, per write scope (only scopes it used).
    pub writes: Vec<ScopeUse>,
    /// Host calls refused because the scope was not granted.
    pub denied_calls: u64,
    /// Origins contacted, with request counts.
    pub origins: Vec<OriginUse>,
    /// Declared keys it opened, with how many times.
    pub keys: Vec<KeyUse>,
    /// Scopes granted now that it did not use at all in the window (least privilege: revoke).
    pub unused: Vec<UnusedScope>,
}

/// Records touched under one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScopeUse {
    /// The scope, such as `orders:read`.
    pub scope: String,
    /// Records returned (reads) or changed (writes).
    pub records: u64,
}

/// Requests to one origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OriginUse {
    /// The declared origin, such as `https://api.example.com`; undeclared ones are counted
    /// together under [`UNDECLARED_ORIGIN`] (their names can carry personal data).
    pub origin: String,
    /// Requests sent or attempted.
    pub requests: u64,
    /// Of those, refused by the host before connecting.
    pub refused: u64,
}

/// How undeclared origins are shown: all together, never by name.
pub const UNDECLARED_ORIGIN: &str = "(origins it does not declare)";

/// Uses of one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KeyUse {
    /// The key's declared name.
    pub name: String,
    /// Times it was opened (read, or filled into a request header).
    pub uses: u64,
}

/// A granted scope the app did not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnusedScope {
    /// The scope.
    pub scope: String,
    /// Unused since: the window's start, or the approval when that came later.
    pub since_ms: i64,
    /// True when the app requires it: revoking means disconnecting the app, not just this
    /// scope.
    pub required: bool,
}

impl AppAccess {
    /// An app's entry with nothing accessed yet.
    pub fn new(installation: &str, connector: &str, name: &str, installed: bool) -> Self {
        AppAccess {
            installation: installation.to_owned(),
            connector: connector.to_owned(),
            name: name.to_owned(),
            installed,
            reads: Vec::new(),
            writes: Vec::new(),
            denied_calls: 0,
            origins: Vec::new(),
            keys: Vec::new(),
            unused: Vec::new(),
        }
    }

    /// Count `records` under `scope`, in reads or writes as the scope is.
    pub fn add_records(&mut self, scope: Scope, records: u64) {
        let list = if scope.is_write() {
            &mut self.writes
        } else {
            &mut self.reads
        };
        match list.iter_mut().find(|u| u.scope == scope.as_str()) {
            Some(used) => used.records += records,
            None => list.push(ScopeUse {
                scope: scope.as_str().to_owned(),
                records,
            }),
        }
    }

    /// Count `requests` to `origin`, `refused` of them refused.
    pub fn add_requests(&mut self, origin: &str, requests: u64, refused: u64) {
        match self.origins.iter_mut().find(|o| o.origin == origin) {
            Some(o) => {
                o.requests += requests;
                o.refused += refused;
            }
            None => self.origins.push(OriginUse {
                origin: origin.to_owned(),
                requests,
                refused,
            }),
        }
    }

    /// Count `uses` of key `name`.
    pub fn add_key(&mut self, name: &str, uses: u64) {
        match self.keys.iter_mut().find(|k| k.name == name) {
            Some(k) => k.uses += uses,
            None => self.keys.push(KeyUse {
                name: name.to_owned(),
                uses,
            }),
        }
    }

    /// Sort every list so reports compare and read the same every time.
    pub fn sort(&mut self) {
        let by_scope = |a: &ScopeUse, b: &ScopeUse| a.scope.cmp(&b.scope);
        self.reads.sort_by(by_scope);
        self.writes.sort_by(by_scope);
        self.origins
            .sort_by(|a, b| b.requests.cmp(&a.requests).then(a.origin.cmp(&b.origin)));
        self.keys.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// The origin an outbound audit line's detail (`METHOD origin[: error][ (cause)]`) names.
pub(crate) fn origin_of_detail(detail: &str) -> &str {
    let rest = detail.split_once(' ').map_or("", |(_, rest)| rest);
    if rest.starts_with('(') || rest.is_empty() {
        return UNDECLARED_ORIGIN;
    }
    let origin = rest.split(' ').next().unwrap_or_default();
    origin.strip_suffix(':').unwrap_or(origin)
}

impl DataAccessReport {
    /// The report as CSV: one row per app and item (`read`, `write`, `denied`, `origin`,
    /// `key`, `unused-scope`), for a merchant's data request. Every field is quoted, and a
    /// field that a spreadsheet would run as a formula is defused with a leading `'`.
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("installation,connector,name,installed,item,what,count,detail\n");
        for app in &self.apps {
            let mut row = |item: &str, what: &str, count: u64, detail: &str| {
                let fields = [
                    app.installation.as_str(),
                    app.connector.as_str(),
                    app.name.as_str(),
                    if app.installed { "yes" } else { "no" },
                    item,
                    what,
                    &count.to_string(),
                    detail,
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                let _ = writeln!(out, "{}", line.join(","));
            };
            for r in &app.reads {
                row("read", &r.scope, r.records, "records read");
            }
            for w in &app.writes {
                row("write", &w.scope, w.records, "records changed");
            }
            if app.denied_calls > 0 {
                row(
                    "denied",
                    "",
                    app.denied_calls,
                    "calls refused: scope not granted",
                );
            }
            for o in &app.origins {
                row(
                    "origin",
                    &o.origin,
                    o.requests,
                    &format!("{} refused", o.refused),
                );
            }
            for k in &app.keys {
                row("key", &k.name, k.uses, "times opened");
            }
            for u in &app.unused {
                let note = if u.required {
                    "required by the app"
                } else {
                    "optional"
                };
                row("unused-scope", &u.scope, 0, note);
            }
        }
        out
    }
}

/// One CSV field, quoted; formula-looking text defused (CSV injection).
fn csv_field(value: &str) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::{AppAccess, DataAccessReport, UNDECLARED_ORIGIN, origin_of_detail};
    use crate::grants::Scope;

    #[test]
    fn origins_are_read_back_from_outbound_lines() {
        assert_eq!(
            origin_of_detail("GET https://api.example.com"),
            "https://api.example.com"
        );
        assert_eq!(
            origin_of_detail("POST https://pay.example.in:8443: refused: not declared (network)"),
            "https://pay.example.in:8443"
        );
        assert_eq!(
            origin_of_detail("GET (an origin it does not declare): refused"),
            UNDECLARED_ORIGIN
        );
        assert_eq!(origin_of_detail(""), UNDECLARED_ORIGIN);
    }

    #[test]
    fn csv_quotes_every_field_and_defuses_formulas() {
        let mut app = AppAccess::new("inst_1", "evil", "=HYPERLINK(\"x\")", true);
        app.add_records(Scope::OrdersRead, 3);
        app.add_records(Scope::OrdersWrite, 1);
        app.add_records(Scope::OrdersRead, 2);
        let report = DataAccessReport {
            merchant: "m".into(),
            since_ms: 0,
            until_ms: 1,
            apps: vec![app],
        };
        let csv = report.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[1].contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
        assert!(lines[1].contains("\"read\",\"orders:read\",\"5\""), "{csv}");
        assert!(
            lines[2].contains("\"write\",\"orders:write\",\"1\""),
            "{csv}"
        );
    }
}
