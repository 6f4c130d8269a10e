//! `manifest.json` (written by `rtl-gen`) read into typed specs.
//!
//! The manifest lists every module to verilate: its Verilog file, `kind`,
//! `latency`, `params` and top-level ports (name, `input`/`output`, width).
//! Everything the shim and the registry are generated from is validated here
//! (plain identifiers, no duplicates, widths 1..=1024), because a bad name
//! would otherwise surface as a C++ or Rust compile error in generated code.
//! The ports are checked against the Verilog itself later, after Verilator
//! ran ([`crate::verilator::check_ports`]).
//!
//! [`parse_manifest`] is pure apart from the `read` callback that fetches each
//! module's Verilog source, so it can be tested on strings.

use std::io;
use std::path::{Path, PathBuf};

/// Direction of a top-level port. (Its `Debug` text goes into the cache key.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dir {
    Input,
    Output,
}

/// One top-level port, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
}

/// One module of the manifest.
#[derive(Clone, Debug)]
pub struct ModSpec {
    /// Verilog module name (Verilator prefix `V<module>`, shim `vlshim_<module>_*`).
    pub module: String,
    /// Verilog file, relative to `dir`.
    pub file: String,
    /// Manifest `kind`, "" if absent.
    pub kind: String,
    pub latency: Option<u64>,
    /// Manifest `params` as compact JSON text, "{}" if absent.
    pub params_json: String,
    /// In manifest order (the shim's port index is the position here).
    pub ports: Vec<PortSpec>,
    /// Directory of the manifest and of `file`.
    pub dir: PathBuf,
    /// Verilog source, read once (hashed and verilated).
    pub source: Vec<u8>,
}

impl ModSpec {
    /// Path of the Verilog file.
    pub fn vfile(&self) -> PathBuf {
        self.dir.join(&self.file)
    }

    /// Index of the clock input the shim's tick() drives, if any
    /// (`clk`, `aclk` or `clock`, 1-bit input).
    pub fn clock_port(&self) -> Option<usize> {
        ["clk", "aclk", "clock"]
            .iter()
            .find_map(|c| self.one_bit_input(c))
    }

    /// (index, active high) of the reset input, if any.
    pub fn reset_port(&self) -> Option<(usize, bool)> {
        for n in ["rst", "reset", "areset"] {
            if let Some(i) = self.one_bit_input(n) {
                return Some((i, true));
            }
        }
        for n in ["rst_n", "rstn", "reset_n", "resetn", "aresetn", "areset_n"] {
            if let Some(i) = self.one_bit_input(n) {
                return Some((i, false));
            }
        }
        None
    }

    fn one_bit_input(&self, name: &str) -> Option<usize> {
        self.ports
            .iter()
            .position(|p| p.name == name && p.dir == Dir::Input && p.width == 1)
    }
}

/// A plain Verilog (and C++ and Rust) identifier: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// Parses the manifest `text` (read from `path`, which only names it in error
/// messages) of the directory `gen_dir`. `read` is called with the path of each
/// module's Verilog file, after that module validated, and returns its bytes.
pub fn parse_manifest(
    path: &Path,
    text: &str,
    gen_dir: &Path,
    mut read: impl FnMut(&Path) -> io::Result<Vec<u8>>,
) -> Result<Vec<ModSpec>, String> {
    let pd = path.display();
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{pd}: invalid JSON: {e}"))?;
    let mods = v
        .get("modules")
        .and_then(|m| m.as_array())
        .ok_or_else(|| format!("{pd}: no \"modules\" array"))?;
    let mut out: Vec<ModSpec> = Vec::new();
    for (i, m) in mods.iter().enumerate() {
        let field = |k: &str| -> Result<&str, String> {
            m.get(k)
                .and_then(|x| x.as_str())
                .ok_or_else(|| format!("{pd}: modules[{i}]: missing string field \"{k}\""))
        };
        let module = field("module")?.to_string();
        let file = field("file")?.to_string();
        let kind = m
            .get("kind")
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string();
        if !is_ident(&module) {
            return Err(format!(
                "{pd}: module name {module:?} is not a plain Verilog identifier"
            ));
        }
        if out.iter().any(|o| o.module == module) {
            return Err(format!("{pd}: module {module} listed twice"));
        }
        let latency = m.get("latency").and_then(|x| x.as_u64());
        let params_json = m
            .get("params")
            .map(|p| p.to_string())
            .unwrap_or_else(|| "{}".into());
        let ports_v = m
            .get("ports")
            .and_then(|p| p.as_array())
            .ok_or_else(|| format!("{pd}: module {module}: no \"ports\" array"))?;
        let mut ports: Vec<PortSpec> = Vec::new();
        for p in ports_v {
            let name = p
                .get("name")
                .and_then(|x| x.as_str())
                .ok_or_else(|| format!("{pd}: module {module}: a port without \"name\""))?;
            let dir = match p.get("dir").and_then(|x| x.as_str()) {
                Some("input") => Dir::Input,
                Some("output") => Dir::Output,
                other => {
                    return Err(format!(
                        "{pd}: module {module}, port {name}: dir {other:?} unsupported (input|output)"
                    ))
                }
            };
            let width = p.get("width").and_then(|x| x.as_u64()).unwrap_or(0);
            if !(1..=1024).contains(&width) {
                return Err(format!(
                    "{pd}: module {module}, port {name}: width {width} outside 1..=1024"
                ));
            }
            if !is_ident(name) {
                return Err(format!(
                    "{pd}: module {module}: port name {name:?} is not a plain identifier"
                ));
            }
            if ports.iter().any(|q| q.name == name) {
                return Err(format!("{pd}: module {module}: port {name} listed twice"));
            }
            ports.push(PortSpec {
                name: name.to_string(),
                dir,
                width: width as u32,
            });
        }
        let vfile = gen_dir.join(&file);
        let source = read(&vfile).map_err(|e| {
            format!(
                "{pd}: module {module}: cannot read {}: {e}",
                vfile.display()
            )
        })?;
        out.push(ModSpec {
            module,
            file,
            kind,
            latency,
            params_json,
            ports,
            dir: gen_dir.to_path_buf(),
            source,
        });
    }
    Ok(out)
}

/// Reads and parses the manifest at `path` (of the directory `gen_dir`) and the
/// Verilog it lists, printing `cargo:rerun-if-changed` for each Verilog file.
pub fn load_manifest(path: &Path, gen_dir: &Path) -> Result<Vec<ModSpec>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_manifest(path, &text, gen_dir, |vfile| {
        println!("cargo:rerun-if-changed={}", vfile.display());
        std::fs::read(vfile)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn port(name: &str, dir: Dir, width: u32) -> PortSpec {
        PortSpec {
            name: name.into(),
            dir,
            width,
        }
    }

    pub(crate) fn spec(module: &str, ports: Vec<PortSpec>) -> ModSpec {
        ModSpec {
            module: module.into(),
            file: format!("{module}.v"),
            kind: "demo".into(),
            latency: Some(2),
            params_json: r#"{"lanes":4}"#.into(),
            ports,
            dir: PathBuf::from("/gen"),
            source: b"module x; endmodule\n".to_vec(),
        }
    }

    /// The module the fixtures testdata/shim_mix.cpp and models_a.rs were
    /// generated from (by the build.rs before the split into this crate): every
    /// port storage (1, 12, 33, 64, 100, 96, 32, 40, 65 bits), clock `aclk`,
    /// active-high reset `rst`.
    pub(crate) fn mix() -> ModSpec {
        use Dir::*;
        ModSpec {
            module: "mix".into(),
            file: "mix.v".into(),
            kind: "demo".into(),
            latency: Some(2),
            params_json: "{\"lanes\":4}".into(),
            ports: vec![
                port("aclk", Input, 1),
                port("rst", Input, 1),
                port("a", Input, 12),
                port("b", Input, 33),
                port("q", Input, 64),
                port("w", Input, 100),
                port("v", Input, 96),
                port("y", Output, 32),
                port("s", Output, 40),
                port("z", Output, 65),
                port("f", Output, 1),
            ],
            dir: PathBuf::from("/gen"),
            source: b"module mix; endmodule\n".to_vec(),
        }
    }

    /// A combinational module (no clock) with an active-low reset: testdata/shim_comb.cpp.
    pub(crate) fn comb() -> ModSpec {
        use Dir::*;
        ModSpec {
            module: "comb".into(),
            file: "comb.v".into(),
            kind: "".into(),
            latency: None,
            params_json: "{}".into(),
            ports: vec![port("x", Input, 8), port("y", Output, 8), port("rst_n", Input, 1)],
            dir: PathBuf::from("/gen"),
            source: Vec::new(),
        }
    }

    fn parse(text: &str) -> Result<Vec<ModSpec>, String> {
        parse_manifest(
            Path::new("/gen/manifest.json"),
            text,
            Path::new("/gen"),
            |p| Ok(format!("// {}\n", p.display()).into_bytes()),
        )
    }

    fn err(text: &str) -> String {
        parse(text).expect_err("should be rejected")
    }

    const VALID: &str = r#"{
      "generator": "rtl-gen",
      "modules": [
        {"module": "hif8_exp2", "file": "hif8_exp2.v", "kind": "hif8_exp2", "latency": 3,
         "params": {"a": [1, "x"], "b": 2},
         "ports": [
           {"name": "clk", "dir": "input", "width": 1},
           {"name": "rst_n", "dir": "input", "width": 1},
           {"name": "in_x", "dir": "input", "width": 8},
           {"name": "out_y", "dir": "output", "width": 100}
         ]},
        {"module": "comb", "file": "sub/comb.v", "ports": []}
      ]
    }"#;

    #[test]
    fn valid_manifest() {
        let mods = parse(VALID).unwrap();
        assert_eq!(mods.len(), 2);
        let m = &mods[0];
        assert_eq!(m.module, "hif8_exp2");
        assert_eq!(m.file, "hif8_exp2.v");
        assert_eq!(m.kind, "hif8_exp2");
        assert_eq!(m.latency, Some(3));
        // compact JSON text
        assert_eq!(m.params_json, r#"{"a":[1,"x"],"b":2}"#);
        assert_eq!(
            m.ports,
            vec![
                port("clk", Dir::Input, 1),
                port("rst_n", Dir::Input, 1),
                port("in_x", Dir::Input, 8),
                port("out_y", Dir::Output, 100),
            ]
        );
        assert_eq!(m.dir, Path::new("/gen"));
        assert_eq!(m.source, b"// /gen/hif8_exp2.v\n");
        assert_eq!(m.vfile(), Path::new("/gen/hif8_exp2.v"));
        assert_eq!(m.clock_port(), Some(0));
        assert_eq!(m.reset_port(), Some((1, false)));

        let c = &mods[1];
        assert_eq!((c.kind.as_str(), c.latency), ("", None));
        assert_eq!(c.params_json, "{}");
        assert!(c.ports.is_empty());
        assert_eq!(c.source, b"// /gen/sub/comb.v\n");
        assert_eq!((c.clock_port(), c.reset_port()), (None, None));
    }

    #[test]
    fn empty_module_list() {
        assert!(parse(r#"{"modules": []}"#).unwrap().is_empty());
    }

    #[test]
    fn not_json_or_no_modules() {
        assert!(err("{").starts_with("/gen/manifest.json: invalid JSON: "));
        assert_eq!(
            err(r#"{"mods": []}"#),
            r#"/gen/manifest.json: no "modules" array"#
        );
        assert_eq!(
            err(r#"{"modules": {}}"#),
            r#"/gen/manifest.json: no "modules" array"#
        );
    }

    #[test]
    fn missing_fields() {
        assert_eq!(
            err(r#"{"modules": [{"file": "a.v", "ports": []}]}"#),
            r#"/gen/manifest.json: modules[0]: missing string field "module""#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": []}, {"module": "b", "ports": []}]}"#),
            r#"/gen/manifest.json: modules[1]: missing string field "file""#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": 3, "ports": []}]}"#),
            r#"/gen/manifest.json: modules[0]: missing string field "file""#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v"}]}"#),
            r#"/gen/manifest.json: module a: no "ports" array"#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": [{"dir": "input", "width": 1}]}]}"#),
            r#"/gen/manifest.json: module a: a port without "name""#
        );
    }

    #[test]
    fn bad_identifiers() {
        assert_eq!(
            err(r#"{"modules": [{"module": "9lives", "file": "a.v", "ports": []}]}"#),
            r#"/gen/manifest.json: module name "9lives" is not a plain Verilog identifier"#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a-b", "file": "a.v", "ports": []}]}"#),
            r#"/gen/manifest.json: module name "a-b" is not a plain Verilog identifier"#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": [{"name": "x[0]", "dir": "input", "width": 1}]}]}"#),
            r#"/gen/manifest.json: module a: port name "x[0]" is not a plain identifier"#
        );
        assert!(is_ident("_a9") && is_ident("A") && !is_ident("") && !is_ident("é"));
    }

    #[test]
    fn duplicates() {
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": []}, {"module": "a", "file": "b.v", "ports": []}]}"#),
            "/gen/manifest.json: module a listed twice"
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": [
                {"name": "x", "dir": "input", "width": 1}, {"name": "x", "dir": "output", "width": 2}]}]}"#),
            "/gen/manifest.json: module a: port x listed twice"
        );
    }

    #[test]
    fn bad_dir_and_width() {
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": [{"name": "x", "dir": "inout", "width": 1}]}]}"#),
            r#"/gen/manifest.json: module a, port x: dir Some("inout") unsupported (input|output)"#
        );
        assert_eq!(
            err(r#"{"modules": [{"module": "a", "file": "a.v", "ports": [{"name": "x", "width": 1}]}]}"#),
            "/gen/manifest.json: module a, port x: dir None unsupported (input|output)"
        );
        for (w, shown) in [("0", "0"), ("1025", "1025"), ("-1", "0"), ("\"8\"", "0")] {
            let text = format!(
                r#"{{"modules": [{{"module": "a", "file": "a.v", "ports": [{{"name": "x", "dir": "input", "width": {w}}}]}}]}}"#
            );
            assert_eq!(
                err(&text),
                format!("/gen/manifest.json: module a, port x: width {shown} outside 1..=1024")
            );
        }
        let ok = r#"{"modules": [{"module": "a", "file": "a.v", "ports": [{"name": "x", "dir": "input", "width": 1024}]}]}"#;
        assert_eq!(parse(ok).unwrap()[0].ports[0].width, 1024);
    }

    #[test]
    fn unreadable_verilog() {
        let e = parse_manifest(
            Path::new("m.json"),
            r#"{"modules": [{"module": "a", "file": "a.v", "ports": []}]}"#,
            Path::new("/gen"),
            |_| Err(io::Error::new(io::ErrorKind::NotFound, "gone")),
        )
        .unwrap_err();
        assert_eq!(e, "m.json: module a: cannot read /gen/a.v: gone");
    }

    #[test]
    fn reads_sources_in_order_after_validation() {
        let mut seen = Vec::new();
        let e = parse_manifest(
            Path::new("m.json"),
            r#"{"modules": [{"module": "a", "file": "a.v", "ports": []}, {"module": "1", "file": "b.v", "ports": []}]}"#,
            Path::new("/g"),
            |p| {
                seen.push(p.to_path_buf());
                Ok(Vec::new())
            },
        )
        .unwrap_err();
        assert!(e.contains("\"1\" is not a plain Verilog identifier"));
        assert_eq!(seen, vec![PathBuf::from("/g/a.v")]);
    }

    #[test]
    fn clock_and_reset_detection() {
        use Dir::*;
        let m = spec("m", vec![port("clock", Input, 1), port("aclk", Input, 1)]);
        assert_eq!(m.clock_port(), Some(1)); // aclk comes before clock in preference
        let m = spec("m", vec![port("clk", Input, 2), port("clk_en", Input, 1)]);
        assert_eq!(m.clock_port(), None); // wide "clk" is not a clock
        let m = spec("m", vec![port("clk", Output, 1)]);
        assert_eq!(m.clock_port(), None);
        let m = spec(
            "m",
            vec![port("aresetn", Input, 1), port("reset", Input, 1)],
        );
        assert_eq!(m.reset_port(), Some((1, true))); // active-high names win
        let m = spec("m", vec![port("x", Input, 1), port("areset_n", Input, 1)]);
        assert_eq!(m.reset_port(), Some((1, false)));
        let m = spec("m", vec![port("rst", Input, 4), port("rst_n", Output, 1)]);
        assert_eq!(m.reset_port(), None);
    }
}
