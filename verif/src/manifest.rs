//! generated/manifest.json as the tests read it: which modules exist, with
//! which parameters and latency.

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Clone, Debug, Deserialize)]
pub struct PortInfo {
    pub name: String,
    pub dir: String,
    pub width: u32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ModuleInfo {
    pub module: String,
    pub file: String,
    pub kind: String,
    pub params: serde_json::Value,
    pub latency: u32,
    pub ports: Vec<PortInfo>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub modules: Vec<ModuleInfo>,
}

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
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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

/// Every module of a kind (e.g. "hif8_exp2"), in manifest order.
pub fn of_kind(kind: &str) -> Vec<ModuleInfo> {
    load().modules.into_iter().filter(|m| m.kind == kind).collect()
}

impl ModuleInfo {
    pub fn param_str(&self, key: &str) -> &str {
        self.params[key].as_str().unwrap_or_else(|| panic!("{}: no string parameter {key}", self.module))
    }
}
