//! generated/ is never hand-edited: it must be exactly what the generator writes now.

use rtl_gen::defaults::{default_set, manifest_json};
use std::path::Path;

#[test]
fn generated_matches_the_generator() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated");
    let modules = default_set().unwrap();
    for m in &modules {
        let on_disk = std::fs::read_to_string(dir.join(&m.file)).unwrap_or_default();
        assert!(on_disk == m.verilog, "generated/{} is stale or edited: run `make rtl`", m.file);
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap_or_default();
    assert!(manifest == manifest_json(&modules).unwrap(), "generated/manifest.json is stale: run `make rtl`");
}
