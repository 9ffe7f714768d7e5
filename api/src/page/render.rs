//! The page's templates (askama; every `{{ value }}` is HTML-escaped, and nothing is marked
//! safe) and what every page shares: the language, the labels, the CSRF token, the notice.

use airlock_host::Error;
use airlock_host::prompt::Language;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::labels::{Labels, labels};
use super::session::Flash;

/// A language in the switcher.
pub(crate) struct LangChoice {
    pub code: &'static str,
    pub name: &'static str,
    pub current: bool,
}

/// What the layout shows around every page.
pub(crate) struct Chrome {
    pub lang: &'static str,
    pub l: &'static Labels,
    pub title: String,
    pub csrf: String,
    pub signed_in: bool,
    pub flash: Option<Flash>,
    pub langs: Vec<LangChoice>,
}

impl Chrome {
    /// The frame of a page titled `title` in `lang`; `csrf` empty when nobody is signed in.
    pub(crate) fn new(lang: Language, title: String, csrf: &str, flash: Option<Flash>) -> Chrome {
        Chrome {
            lang: lang.code(),
            l: labels(lang),
            title,
            csrf: csrf.to_owned(),
            signed_in: !csrf.is_empty(),
            flash,
            langs: Language::ALL
                .iter()
                .map(|l| LangChoice {
                    code: l.code(),
                    name: match l {
                        Language::En => "English",
                        Language::Hi => "हिंदी",
                        Language::As => "অসমীয়া",
                    },
                    current: *l == lang,
                })
                .collect(),
        }
    }
}

/// The sign-in form.
#[derive(Template)]
#[template(path = "signin.html")]
pub(crate) struct SigninPage {
    pub c: Chrome,
    pub notice: Option<String>,
    pub signin_csrf: String,
}

/// A short page with a heading and a sentence (not found, failures).
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub c: Chrome,
    pub heading: String,
    pub text: String,
}

/// The confirmation step of a destructive action.
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub c: Chrome,
    pub heading: String,
    pub help: String,
    pub yes_text: String,
    pub action: String,
    pub cancel_href: String,
}

/// A rendered template as a response with `status`; a template that cannot render (a bug)
/// is a plain 500.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "merchant page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

/// A page saying what failed, with `status`.
pub(crate) fn message(status: StatusCode, lang: Language, heading: &str, text: String) -> Response {
    let page = MessagePage {
        c: Chrome::new(lang, heading.to_owned(), "", None),
        heading: heading.to_owned(),
        text,
    };
    html(status, &page)
}

/// The page for an app that is not the merchant's (or does not exist: the two read the same).
pub(crate) fn not_found(lang: Language) -> Response {
    let l = labels(lang);
    message(StatusCode::NOT_FOUND, lang, l.not_found, l.back.to_owned())
}

/// Whether a host error means "no such app for this merchant".
pub(crate) fn is_not_found(err: &Error) -> bool {
    matches!(err, Error::NotInstalled { .. } | Error::UnknownMerchant(_))
}

/// A host failure as a page: not-found reads as not-found; a failure inside the host is
/// logged and named only generically; anything else is the host's own (English) words.
pub(crate) fn host_failure(err: Error, lang: Language) -> Response {
    if is_not_found(&err) {
        return not_found(lang);
    }
    let api = crate::ApiError::from(err);
    let l = labels(lang);
    message(api.status, lang, l.failed, api.body.message)
}
