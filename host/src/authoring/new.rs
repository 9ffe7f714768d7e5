//! `airlock new`: a connector project from the templates in `host/templates` (embedded at
//! build time), in Rust, JavaScript or Python, for each kind of connector. Each kind's
//! manifest asks for the least its handler needs, and each handler imports exactly those
//! interfaces and answers with typed `connector-error`s.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::artifact::CONTRACT_VERSION;
use crate::manifest::{ConnectorKind, Manifest, ManifestError, Topic};

/// The language of a connector project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Rust with `airlock-sdk`, built with cargo for wasm32-wasip2.
    Rust,
    /// JavaScript, built with componentize-js.
    Js,
    /// Python, built with componentize-py.
    Python,
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rust" => Ok(Language::Rust),
            "js" | "javascript" => Ok(Language::Js),
            "python" | "py" => Ok(Language::Python),
            _ => Err(format!("unknown language `{s}`: rust, js or python")),
        }
    }
}

/// The componentize-js version the JavaScript template pins.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// The componentize-py version the Python template pins.
pub const COMPONENTIZE_PY: &str = "0.25.1";

/// Why a project could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The manifest the name and kind make is refused (an id of the wrong shape, say).
    #[error("the project's manifest is refused: {0}")]
    Manifest(#[from] ManifestError),
    /// The directory holds files already.
    #[error("{} exists and is not empty; choose another --dir", .0.display())]
    NotEmpty(PathBuf),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// What to make.
#[derive(Debug, Clone)]
pub struct Options {
    /// The connector id, such as `acme.order-notifier` (also names the package).
    pub name: String,
    /// The language.
    pub language: Language,
    /// The kind of connector.
    pub kind: ConnectorKind,
    /// The publisher named in the manifest.
    pub publisher: String,
    /// Where `airlock-sdk` is (Rust projects depend on it by path).
    pub sdk_path: PathBuf,
}

/// One file of a project.
#[derive(Debug, Clone)]
pub struct File {
    /// Path relative to the project directory.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Whether it is a script to mark executable.
    pub executable: bool,
}

/// A connector project: its files, its manifest, and the commands that build and test it.
#[derive(Debug, Clone)]
pub struct Project {
    /// Every file.
    pub files: Vec<File>,
    /// The manifest (`airlock.toml`), parsed.
    pub manifest: Manifest,
    /// The one command that builds it.
    pub build: String,
    /// The command that runs the built connector against the demo store's fixture data.
    pub test: String,
}

/// The SDK of the checkout this library was built from.
pub fn default_sdk_path() -> PathBuf {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    sdk.canonicalize().unwrap_or(sdk)
}

/// The project `options` describe.
pub fn project(options: &Options) -> Result<Project, NewError> {
    let (kind_toml, sources) = kind_templates(options.kind);
    let manifest_text = format!("{}\n{kind_toml}", templates::HEADER);
    let mut vars = Vars::new(options);
    let airlock_toml = vars.render(&manifest_text);
    let manifest = Manifest::parse(airlock_toml.as_bytes())?;
    let test = test_command(&manifest, &artifact_path(options));
    vars.set("test_command", &test);
    let componentize = componentize_command(options.language, &manifest);
    let (build, mut files) = match options.language {
        Language::Rust => {
            let source = vars.render(sources[0]);
            let files = vec![
                file("Cargo.toml", vars.render(templates::rust::CARGO)),
                file("src/lib.rs", source),
                file("README.md", vars.render(templates::rust::README)),
                file(".gitignore", templates::rust::GITIGNORE.to_owned()),
            ];
            (
                "cargo build --target wasm32-wasip2 --release".to_owned(),
                files,
            )
        }
        Language::Js => {
            vars.set("componentize", &componentize.join(" "));
            let (flags, why) = if manifest.http.is_empty() {
                (
                    "-d http -d fetch-event",
                    "the manifest declares no `[[http]]` origin, so `fetch` and every `wasi:http` import are left out",
                )
            } else {
                (
                    "-d fetch-event",
                    "the manifest declares `[[http]]` origins, so `fetch` stays (its `wasi:http` imports are what the origins allow) and only incoming requests are left out",
                )
            };
            vars.set("disable", flags);
            vars.set("disable_why", why);
            vars.set("helpers", templates::js::HELPERS.trim_end());
            let files = vec![
                file("package.json", vars.render(templates::js::PACKAGE)),
                file("package-lock.json", vars.render(templates::js::LOCK)),
                file("app.js", vars.render(sources[1])),
                file("README.md", vars.render(templates::js::README)),
                file(".gitignore", templates::js::GITIGNORE.to_owned()),
            ];
            ("npm ci && npm run build".to_owned(), files)
        }
        Language::Python => {
            let mut line = vec!["\"$componentize_py\"".to_owned()];
            line.extend(componentize.iter().skip(1).cloned());
            vars.set("componentize", &line.join(" "));
            vars.set("helpers", templates::python::HELPERS.trim_end());
            let files = vec![
                file(
                    "requirements.txt",
                    templates::python::REQUIREMENTS.to_owned(),
                ),
                File {
                    executable: true,
                    ..file("build.sh", vars.render(templates::python::BUILD))
                },
                file("app.py", vars.render(sources[2])),
                file("README.md", vars.render(templates::python::README)),
                file(".gitignore", templates::python::GITIGNORE.to_owned()),
            ];
            // The toolchain comes pinned, with hashes, into the project's own venv first.
            (
                "python3 -m venv .venv && .venv/bin/pip install --require-hashes -r requirements.txt \
                 && PATH=\"$PWD/.venv/bin:$PATH\" ./build.sh"
                    .to_owned(),
                files,
            )
        }
    };
    files.insert(0, file("airlock.toml", airlock_toml));
    Ok(Project {
        files,
        manifest,
        build,
        test,
    })
}

/// The command that makes `component.wasm` from the project's sources and the world in
/// `wit/`, as the template's build runs it: the program first (`componentize-js`,
/// `componentize-py`; empty for Rust, whose build is cargo's).
pub fn componentize_command(language: Language, manifest: &Manifest) -> Vec<String> {
    let args: Vec<String> = match language {
        Language::Rust => Vec::new(),
        Language::Js => {
            let mut args = vec!["componentize-js", "app.js", "--wit", "wit"];
            args.extend(["--world-name", super::wit::WORLD]);
            // Without origins, `http` off drops `fetch`, and `fetch-event` off drops the
            // incoming-request handler: together they leave no `wasi:http` import.
            if manifest.http.is_empty() {
                args.extend(["-d", "http"]);
            }
            args.extend(["-d", "fetch-event", "-o", "component.wasm"]);
            args.into_iter().map(str::to_owned).collect()
        }
        Language::Python => {
            // The contract's `types` keeps its short module name even beside `wasi:http`'s.
            let rename = format!("airlock:connector/types@{CONTRACT_VERSION}=types");
            let mut args = vec!["componentize-py".to_owned()];
            args.extend(["-d", "wit", "-w", super::wit::WORLD].map(str::to_owned));
            args.extend(["--import-interface-name".to_owned(), rename]);
            args.extend(["componentize", "app", "-o", "component.wasm"].map(str::to_owned));
            args
        }
    };
    args
}

/// `airlock dev run ARTIFACT --event TOPIC:SUBJECT`: the manifest's first event about a
/// record of the demo store.
pub fn test_command(manifest: &Manifest, artifact: &str) -> String {
    let topic = manifest
        .events
        .first()
        .copied()
        .unwrap_or(Topic::OrderCreated);
    let subject = match topic {
        Topic::CustomerCreated => "cus_asha",
        Topic::InventoryChanged => "TEA-ASSAM-250",
        _ => "ord_1001",
    };
    format!(
        "airlock dev run {artifact} --event {}:{subject}",
        topic.as_str()
    )
}

fn artifact_path(options: &Options) -> String {
    match options.language {
        Language::Rust => format!(
            "target/wasm32-wasip2/release/{}.wasm",
            crate_name(&options.name).replace('-', "_")
        ),
        Language::Js | Language::Python => "app.wasm".to_owned(),
    }
}

impl Project {
    /// Write the project into `dir`, which must be missing or empty.
    pub fn write(&self, dir: &Path) -> Result<(), NewError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| NewError::Io { path, source }
        };
        if dir.exists() {
            let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
            if entries.next().is_some() {
                return Err(NewError::NotEmpty(dir.to_owned()));
            }
        }
        for file in &self.files {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, &file.text).map_err(io(&path))?;
            #[cfg(unix)]
            if file.executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .map_err(io(&path))?;
            }
        }
        Ok(())
    }
}

fn file(path: &str, text: String) -> File {
    File {
        path: path.to_owned(),
        text,
        executable: false,
    }
}

/// `acme.order-notifier` -> `acme-order-notifier`: a package name for cargo and npm.
fn crate_name(name: &str) -> String {
    name.replace('.', "-")
}

/// `acme.order-notifier` -> `Order Notifier`.
fn display_name(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The placeholders of the templates (`{{name}}`); any other `{{...}}`, such as a
/// `{{secret:NAME}}` header placeholder, is left as it is.
struct Vars(Vec<(&'static str, String)>);

impl Vars {
    fn new(options: &Options) -> Vars {
        let toml_string = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let crate_name = crate_name(&options.name);
        Vars(vec![
            ("id", options.name.clone()),
            ("display_name", display_name(&options.name)),
            ("publisher", toml_string(&options.publisher)),
            ("kind", options.kind.as_str().to_owned()),
            ("crate_file", crate_name.replace('-', "_")),
            ("crate", crate_name),
            ("sdk_path", toml_string(&options.sdk_path.to_string_lossy())),
            ("contract_version", CONTRACT_VERSION.to_owned()),
        ])
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value.to_owned()));
    }

    fn render(&self, template: &str) -> String {
        self.0
            .iter()
            .fold(template.to_owned(), |text, (name, value)| {
                text.replace(&format!("{{{{{name}}}}}"), value)
            })
    }
}

/// A kind's manifest fragment and its handler in Rust, JavaScript and Python.
fn kind_templates(kind: ConnectorKind) -> (&'static str, [&'static str; 3]) {
    use templates::kinds::*;
    match kind {
        ConnectorKind::Payment => PAYMENT,
        ConnectorKind::Logistics => LOGISTICS,
        ConnectorKind::Messaging => MESSAGING,
        ConnectorKind::Analytics => ANALYTICS,
        ConnectorKind::Ads => ADS,
        ConnectorKind::Marketplace => MARKETPLACE,
    }
}

/// The template files, embedded.
mod templates {
    macro_rules! template {
        ($path:literal) => {
            include_str!(concat!("../../templates/", $path))
        };
    }

    pub const HEADER: &str = template!("kinds/header.toml");

    pub mod kinds {
        macro_rules! kind {
            ($name:literal) => {
                (
                    include_str!(concat!("../../templates/kinds/", $name, ".toml")),
                    [
                        include_str!(concat!("../../templates/rust/", $name, ".rs")),
                        include_str!(concat!("../../templates/js/", $name, ".js")),
                        include_str!(concat!("../../templates/python/", $name, ".py")),
                    ],
                )
            };
        }
        type Kind = (&'static str, [&'static str; 3]);
        pub const PAYMENT: Kind = kind!("payment");
        pub const LOGISTICS: Kind = kind!("logistics");
        pub const MESSAGING: Kind = kind!("messaging");
        pub const ANALYTICS: Kind = kind!("analytics");
        pub const ADS: Kind = kind!("ads");
        pub const MARKETPLACE: Kind = kind!("marketplace");
    }

    pub mod rust {
        pub const CARGO: &str = template!("rust/Cargo.toml");
        pub const README: &str = template!("rust/README.md");
        pub const GITIGNORE: &str = template!("rust/gitignore");
    }

    pub mod js {
        pub const PACKAGE: &str = template!("js/package.json");
        pub const LOCK: &str = template!("js/package-lock.json");
        pub const HELPERS: &str = template!("js/helpers.js");
        pub const README: &str = template!("js/README.md");
        pub const GITIGNORE: &str = template!("js/gitignore");
    }

    pub mod python {
        pub const REQUIREMENTS: &str = template!("python/requirements.txt");
        pub const BUILD: &str = template!("python/build.sh");
        pub const HELPERS: &str = template!("python/helpers.py");
        pub const README: &str = template!("python/README.md");
        pub const GITIGNORE: &str = template!("python/gitignore");
    }
}

#[cfg(test)]
#[path = "new_tests.rs"]
mod tests;
