//! What a connector author runs, no database involved: `airlock new` (a project from the
//! templates), `airlock wit` (the world a manifest allows) and `airlock pack` (a manifest
//! attached to a component after its imports are checked against it).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::json;

use airlock_host::authoring::new::{self, Language};
use airlock_host::authoring::pack as packing;
use airlock_host::authoring::wit;
use airlock_host::manifest::{ConnectorKind, MAX_MANIFEST_BYTES, Manifest};

use crate::args::{Kind, NewArgs, PackArgs, WitArgs};
use crate::print;

/// `airlock new NAME --lang rust|js|python --kind KIND`.
pub fn create(args: NewArgs, lang: &str, json: bool) -> Result<()> {
    let language: Language = lang
        .parse()
        .map_err(anyhow::Error::msg)
        .context("`airlock new` needs --lang rust, js or python")?;
    let publisher = args.publisher.unwrap_or_else(|| publisher_of(&args.name));
    let options = new::Options {
        name: args.name.clone(),
        language,
        kind: kind(args.kind),
        publisher,
        sdk_path: args.sdk_path.unwrap_or_else(new::default_sdk_path),
    };
    let project = new::project(&options)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    project.write(&dir)?;
    let files: Vec<&str> = project.files.iter().map(|f| f.path.as_str()).collect();
    let value = json!({
        "dir": dir,
        "id": project.manifest.id,
        "language": lang,
        "kind": options.kind.as_str(),
        "files": files,
        "build": project.build,
        "test": project.test,
    });
    print::value(&value, json, || {
        format!(
            "created {} ({lang} {} connector `{}`): {}\nbuild: cd {} && {}\ntest:  {}",
            dir.display(),
            options.kind.as_str(),
            project.manifest.id,
            files.join(", "),
            dir.display(),
            project.build,
            project.test
        )
    })
}

/// `airlock wit --manifest airlock.toml --out DIR`.
pub fn world(args: &WitArgs, json: bool) -> Result<()> {
    let manifest = read_manifest(&args.manifest)?;
    let package = wit::world_for(&manifest)?;
    package.write(&args.out)?;
    let files: Vec<&str> = package.files.iter().map(|(p, _)| p.as_str()).collect();
    let value = json!({
        "out": args.out,
        "world": wit::WORLD,
        "imports": package.imports,
        "files": files,
    });
    print::value(&value, json, || {
        let imports: Vec<String> = package
            .imports
            .iter()
            .map(|i| format!("  import {} ({})", i.interface, i.allowed_by))
            .collect();
        format!(
            "wrote {} ({} files): world `{}` of `{}`\n{}\n  export handler",
            args.out.display(),
            files.len(),
            wit::WORLD,
            manifest.id,
            imports.join("\n")
        )
    })
}

/// `airlock pack COMPONENT --manifest airlock.toml -o app.wasm [--replace]`.
pub fn pack(args: &PackArgs, json: bool) -> Result<()> {
    let component = super::apps::read_artifact(&args.component)?;
    let toml = read_capped(&args.manifest, MAX_MANIFEST_BYTES)?;
    let packed = packing::pack(&component, &toml, args.replace).with_context(|| {
        format!(
            "{} with {}",
            args.component.display(),
            args.manifest.display()
        )
    })?;
    std::fs::write(&args.out, &packed.bytes)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let unused: Vec<_> = packed
        .audit
        .unused
        .iter()
        .map(|u| json!({ "declared": u.to_string(), "cost": u.cost(), "fix": u.fix() }))
        .collect();
    let value = json!({
        "artifact": args.out,
        "digest": packed.digest.to_string(),
        "bytes": packed.bytes.len(),
        "connector": packed.manifest.id,
        "version": packed.manifest.version,
        "imports": packed.audit.interfaces,
        "http": packed.audit.http,
        "replaced": packed.replaced,
        "unused": unused,
    });
    print::value(&value, json, || {
        let mut text = format!(
            "packed {} {} into {} ({} bytes)\ndigest: {}",
            packed.manifest.id,
            packed.manifest.version,
            args.out.display(),
            packed.bytes.len(),
            packed.digest
        );
        for unused in &packed.audit.unused {
            text.push_str(&format!("\nunused: {unused}"));
        }
        text
    })
}

/// The manifest at `path`, parsed and validated (the error names the field).
fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = read_capped(path, MAX_MANIFEST_BYTES)?;
    Manifest::parse(&bytes).with_context(|| format!("{} is refused", path.display()))
}

/// At most `limit` bytes of `path`; more is refused without reading it all.
fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > limit {
        bail!("{} is larger than {limit} bytes", path.display());
    }
    Ok(bytes)
}

/// `acme.order-notifier` -> `Acme`; a name without a `.` gets a placeholder to edit.
fn publisher_of(name: &str) -> String {
    match name.split_once('.') {
        Some((first, _)) if !first.is_empty() => {
            let mut chars = first.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        }
        _ => "Example Publisher".to_owned(),
    }
}

fn kind(kind: Kind) -> ConnectorKind {
    match kind {
        Kind::Payment => ConnectorKind::Payment,
        Kind::Logistics => ConnectorKind::Logistics,
        Kind::Messaging => ConnectorKind::Messaging,
        Kind::Analytics => ConnectorKind::Analytics,
        Kind::Ads => ConnectorKind::Ads,
        Kind::Marketplace => ConnectorKind::Marketplace,
    }
}
