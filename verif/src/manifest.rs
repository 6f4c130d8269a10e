//! generated/manifest.json as the tests read it: which modules exist, with
//! which configuration (typed: `ipconfig::Params`, the kind and its
//! generator's config) and latency.

pub use ipconfig::manifest::{Dir, Manifest, Params, Port as PortInfo};
use std::path::PathBuf;

/// One module of the manifest (`ipconfig::ModuleEntry`).
pub type ModuleInfo = ipconfig::ModuleEntry;

/// The directory the co-simulation models were built from (see build.rs).
pub fn generated_dir() -> PathBuf {
    match std::env::var("RTL_GEN_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../generated")),
    }
}

pub fn load() -> Manifest {
    load_from(&generated_dir())
}

fn load_from(dir: &std::path::Path) -> Manifest {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: run `make rtl` first", path.display()));
    Manifest::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The parameter-sweep directory whose models verif was built with
/// (`RTL_SWEEP_DIR` at build time, see build.rs), if any.
pub fn sweep_dir() -> Option<PathBuf> {
    let d = crate::cosim::RTL_SWEEP_DIR;
    (!d.is_empty()).then(|| PathBuf::from(d))
}

/// The sweep's manifest (`rtl-gen sweep`), if verif was built with one.
pub fn load_sweep() -> Option<Manifest> {
    sweep_dir().map(|d| load_from(&d))
}

/// Every module of a kind (one of `Params::KINDS`, e.g. "hif8_exp2"), in manifest order.
pub fn of_kind(kind: &str) -> Vec<ModuleInfo> {
    assert!(Params::KINDS.contains(&kind), "no module kind {kind:?}");
    load().modules.into_iter().filter(|m| m.params.kind() == kind).collect()
}
