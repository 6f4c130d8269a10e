//! Verilator co-simulation bridge, build side.
//!
//! For every module in `generated/manifest.json` (or `$RTL_GEN_DIR/manifest.json`),
//! and in `$RTL_SWEEP_DIR/manifest.json` if set (the parameter sweep, `make sweep`):
//!   1. `verilator --cc` it into C++ (prefix `V<module>`),
//!   2. write a small C ABI shim (`vlshim_<module>_*`: create/destroy/eval/tick,
//!      port set/get by index as u64 or as 32-bit word arrays, VCD trace),
//!   3. compile the model + shim as one or a few translation units.
//!
//! The Verilator runtime (verilated.cpp, verilated_threads.cpp, and
//! verilated_vcd_c.cpp with the `trace` feature) is compiled once. Everything is
//! compiled with -O2 whatever the cargo profile, in one parallel batch, and
//! linked as one static library `libverif_vl.a`.
//!
//! Compiled objects are cached, keyed by a hash of everything that goes into
//! them (Verilog text, ports, Verilator version and flags, shim sources,
//! compiler and flags): re-running after `make rtl` recompiles only the modules
//! whose Verilog changed, and the runtime is compiled once per target dir, not
//! once per profile. The cache lives in `<target>/verif-vl-cache` (next to the
//! profile dirs); `VERIF_VL_CACHE=<dir>` moves it, `VERIF_VL_CACHE=off` keeps it
//! inside OUT_DIR.
//!
//! `$OUT_DIR/models.rs` (included by src/cosim.rs) declares the shim functions
//! and the registry: module name -> function pointers + port table.

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

/// Bump to invalidate every cache entry (e.g. when the generated shim changes shape).
const SHIM_ABI: &str = "vlshim-abi-3";
/// Source bytes per compiled translation unit of one model (bigger models are split).
const TU_BUDGET: u64 = 768 * 1024;

// ---------------------------------------------------------------------------
// errors

fn fail(msg: &str) -> ! {
    // cargo::error shows the message on its own; stderr keeps it in the log too.
    for line in msg.lines() {
        println!("cargo::error={line}");
    }
    eprintln!("error: {msg}");
    exit(1);
}

macro_rules! fail {
    ($($t:tt)*) => { fail(&format!($($t)*)) };
}

// ---------------------------------------------------------------------------
// manifest

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    Input,
    Output,
}

#[derive(Clone, Debug)]
struct PortSpec {
    name: String,
    dir: Dir,
    width: u32,
}

#[derive(Clone, Debug)]
struct ModSpec {
    module: String,
    file: String,
    kind: String,
    latency: Option<u64>,
    params_json: String,
    ports: Vec<PortSpec>,
    /// Directory of the manifest and of `file`.
    dir: PathBuf,
    /// Verilog source, read once (hashed and verilated).
    source: Vec<u8>,
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn parse_manifest(path: &Path, gen_dir: &Path) -> Vec<ModSpec> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| fail!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| fail!("{}: invalid JSON: {e}", path.display()));
    let mods = v
        .get("modules")
        .and_then(|m| m.as_array())
        .unwrap_or_else(|| fail!("{}: no \"modules\" array", path.display()));
    let mut out: Vec<ModSpec> = Vec::new();
    for (i, m) in mods.iter().enumerate() {
        let field = |k: &str| -> &str {
            m.get(k).and_then(|x| x.as_str()).unwrap_or_else(|| {
                fail!(
                    "{}: modules[{i}]: missing string field \"{k}\"",
                    path.display()
                )
            })
        };
        let module = field("module").to_string();
        let file = field("file").to_string();
        let kind = m
            .get("kind")
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string();
        if !is_ident(&module) {
            fail!(
                "{}: module name {module:?} is not a plain Verilog identifier",
                path.display()
            );
        }
        if out.iter().any(|o| o.module == module) {
            fail!("{}: module {module} listed twice", path.display());
        }
        let latency = m.get("latency").and_then(|x| x.as_u64());
        let params_json = m
            .get("params")
            .map(|p| p.to_string())
            .unwrap_or_else(|| "{}".into());
        let ports_v = m
            .get("ports")
            .and_then(|p| p.as_array())
            .unwrap_or_else(|| fail!("{}: module {module}: no \"ports\" array", path.display()));
        let mut ports = Vec::new();
        for p in ports_v {
            let name = p.get("name").and_then(|x| x.as_str()).unwrap_or_else(|| {
                fail!(
                    "{}: module {module}: a port without \"name\"",
                    path.display()
                )
            });
            let dir = match p.get("dir").and_then(|x| x.as_str()) {
                Some("input") => Dir::Input,
                Some("output") => Dir::Output,
                other => fail!(
                    "{}: module {module}, port {name}: dir {other:?} unsupported (input|output)",
                    path.display()
                ),
            };
            let width = p.get("width").and_then(|x| x.as_u64()).unwrap_or(0);
            if !(1..=1024).contains(&width) {
                fail!(
                    "{}: module {module}, port {name}: width {width} outside 1..=1024",
                    path.display()
                );
            }
            if !is_ident(name) {
                fail!(
                    "{}: module {module}: port name {name:?} is not a plain identifier",
                    path.display()
                );
            }
            if ports.iter().any(|q: &PortSpec| q.name == name) {
                fail!(
                    "{}: module {module}: port {name} listed twice",
                    path.display()
                );
            }
            ports.push(PortSpec {
                name: name.to_string(),
                dir,
                width: width as u32,
            });
        }
        let vfile = gen_dir.join(&file);
        println!("cargo:rerun-if-changed={}", vfile.display());
        let source = fs::read(&vfile).unwrap_or_else(|e| {
            fail!(
                "{}: module {module}: cannot read {}: {e}",
                path.display(),
                vfile.display()
            )
        });
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
    out
}

// ---------------------------------------------------------------------------
// hashing (FNV-1a, 64 bit, for cache keys only)

struct Fnv(u64);
impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        // length-prefixed so that ("ab","c") != ("a","bc")
        for x in (b.len() as u64).to_le_bytes().iter().chain(b) {
            self.0 ^= *x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

// ---------------------------------------------------------------------------
// Verilator

fn verilator_bin() -> String {
    env::var("VERILATOR").unwrap_or_else(|_| "verilator".to_string())
}

fn run_capture(cmd: &mut Command) -> io::Result<(bool, String, String)> {
    let o = cmd.output()?;
    Ok((
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ))
}

/// (version line, VERILATOR_ROOT)
fn find_verilator() -> (String, PathBuf) {
    let bin = verilator_bin();
    let version = match run_capture(Command::new(&bin).arg("--version")) {
        Ok((true, out, _)) => out.trim().to_string(),
        Ok((false, out, err)) => fail!("`{bin} --version` failed:\n{out}{err}"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fail!("verilator not found: apt-get install verilator (Debian 5.006)")
        }
        Err(e) => fail!("cannot run `{bin}`: {e}"),
    };
    let root = match env::var_os("VERILATOR_ROOT") {
        Some(r) if !r.is_empty() => PathBuf::from(r),
        _ => match run_capture(Command::new(&bin).args(["--getenv", "VERILATOR_ROOT"])) {
            Ok((true, out, _)) if !out.trim().is_empty() => PathBuf::from(out.trim()),
            _ => PathBuf::from("/usr/share/verilator"),
        },
    };
    if !root.join("include/verilated.cpp").is_file() {
        fail!(
            "{version}: no include/verilated.cpp under VERILATOR_ROOT={}",
            root.display()
        );
    }
    let major: u32 = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if major < 5 {
        fail!("{version}: Verilator >= 5 needed (Debian 5.006: apt-get install verilator)");
    }
    (version, root)
}

fn verilator_args(m: &ModSpec, vfile: &Path, mdir: &Path, trace: bool) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "--cc".into(),
        vfile.display().to_string(),
        "--top-module".into(),
        m.module.clone(),
        "--prefix".into(),
        format!("V{}", m.module),
        "-Mdir".into(),
        mdir.display().to_string(),
        "-O3".into(),
        "--x-assign".into(),
        "unique".into(),
        "--x-initial".into(),
        "unique".into(),
        "--no-timing".into(),
        // VCD time unit (10 per cycle: a 10 ns clock in waveform viewers)
        "--timescale".into(),
        "1ns/1ns".into(),
        "-Wno-fatal".into(),
    ];
    if trace {
        a.push("--trace".into());
    }
    a
}

/// A top-level port as the Verilated model header declares it.
#[derive(Debug)]
struct HdrPort {
    dir: Dir,
    /// "8", "16", "32", "64" or "W"
    kind: &'static str,
    width: u32,
}

/// `VL_IN8(&clk,0,0);`, `VL_OUTW(&m_data,127,0,4);`, ... from V<module>.h.
fn parse_header_ports(text: &str) -> BTreeMap<String, HdrPort> {
    let mut ports = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim();
        let Some(rest) = l.strip_prefix("VL_") else {
            continue;
        };
        let Some(open) = rest.find('(') else { continue };
        let mac = &rest[..open];
        let (dir, kind) = match mac {
            "IN8" => (Dir::Input, "8"),
            "IN16" => (Dir::Input, "16"),
            "IN" => (Dir::Input, "32"),
            "IN64" => (Dir::Input, "64"),
            "INW" => (Dir::Input, "W"),
            "OUT8" => (Dir::Output, "8"),
            "OUT16" => (Dir::Output, "16"),
            "OUT" => (Dir::Output, "32"),
            "OUT64" => (Dir::Output, "64"),
            "OUTW" => (Dir::Output, "W"),
            _ => continue,
        };
        let Some(close) = rest.rfind(')') else {
            continue;
        };
        let args: Vec<&str> = rest[open + 1..close].split(',').map(str::trim).collect();
        if args.len() < 3 {
            continue;
        }
        let name = args[0].trim_start_matches('&').to_string();
        let (Ok(msb), Ok(lsb)) = (args[1].parse::<i64>(), args[2].parse::<i64>()) else {
            continue;
        };
        let width = (msb - lsb).unsigned_abs() as u32 + 1;
        ports.insert(name, HdrPort { dir, kind, width });
    }
    ports
}

/// `VAR += \` lists from V<module>_classes.mk.
fn parse_classes_mk(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if let Some(var) = l.strip_suffix("+= \\").or_else(|| l.strip_suffix("+=\\")) {
            let var = var.trim().to_string();
            lists.entry(var.clone()).or_default();
            cur = Some(var);
            continue;
        }
        match &cur {
            Some(var) if !l.is_empty() => {
                let item = l.trim_end_matches('\\').trim();
                if !item.is_empty() {
                    lists.get_mut(var).unwrap().push(item.to_string());
                }
                if !l.ends_with('\\') {
                    cur = None;
                }
            }
            _ => cur = None,
        }
    }
    lists
}

// ---------------------------------------------------------------------------
// C++ shim generation

fn mask64(width: u32) -> String {
    if width >= 64 {
        "0xFFFFFFFFFFFFFFFFull".into()
    } else {
        format!("0x{:X}ull", (1u64 << width) - 1)
    }
}

fn words_of(width: u32) -> u32 {
    width.div_ceil(32)
}

fn last_word_mask(width: u32) -> String {
    let r = width % 32;
    if r == 0 {
        "0xFFFFFFFFu".into()
    } else {
        format!("0x{:X}u", (1u32 << r) - 1)
    }
}

fn ctype(kind: &str) -> &'static str {
    match kind {
        "8" => "CData",
        "16" => "SData",
        "32" => "IData",
        _ => "QData",
    }
}

/// Name of the clock input the shim's tick() drives, if any.
fn clock_port(m: &ModSpec) -> Option<usize> {
    ["clk", "aclk", "clock"].iter().find_map(|c| {
        m.ports
            .iter()
            .position(|p| p.name == *c && p.dir == Dir::Input && p.width == 1)
    })
}

/// (index, active high) of the reset input.
fn reset_port(m: &ModSpec) -> Option<(usize, bool)> {
    let find = |n: &str| {
        m.ports
            .iter()
            .position(|p| p.name == n && p.dir == Dir::Input && p.width == 1)
    };
    for n in ["rst", "reset", "areset"] {
        if let Some(i) = find(n) {
            return Some((i, true));
        }
    }
    for n in ["rst_n", "rstn", "reset_n", "resetn", "aresetn", "areset_n"] {
        if let Some(i) = find(n) {
            return Some((i, false));
        }
    }
    None
}

fn gen_shim(m: &ModSpec) -> String {
    let md = &m.module;
    let cls = format!("V{md}");
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by verif/build.rs: C ABI shim of {cls}. Do not edit."
    );
    let _ = writeln!(s, "#include \"vlshim.h\"\n#include \"{cls}.h\"\n");
    let _ = writeln!(s, "typedef VlShim<{cls}> S;\n");
    let _ = writeln!(s, "extern \"C\" {{");
    let _ = writeln!(
        s,
        "void* vlshim_{md}_create(uint64_t seed) {{ return vlshim_create<{cls}>(seed); }}"
    );
    let _ = writeln!(
        s,
        "void vlshim_{md}_destroy(void* p) {{ vlshim_destroy<{cls}>(static_cast<S*>(p)); }}"
    );
    let _ = writeln!(
        s,
        "void vlshim_{md}_eval(void* p) {{ vlshim_eval<{cls}>(static_cast<S*>(p)); }}"
    );
    match clock_port(m) {
        Some(ci) => {
            let _ = writeln!(
                s,
                "int vlshim_{md}_tick(void* p, uint64_t n) {{ S* s = static_cast<S*>(p); VLSHIM_TICK(s, n, {}); return 0; }}",
                m.ports[ci].name
            );
        }
        None => {
            let _ = writeln!(s, "int vlshim_{md}_tick(void*, uint64_t) {{ return -1; }}");
        }
    }
    // set64 / get64 (ports up to 64 bits)
    let _ = writeln!(
        s,
        "int vlshim_{md}_set64(void* p, uint32_t idx, uint64_t v) {{"
    );
    let _ = writeln!(s, "    S* s = static_cast<S*>(p);\n    switch (idx) {{");
    for (i, p) in m.ports.iter().enumerate() {
        if p.dir != Dir::Input || p.width > 64 {
            continue;
        }
        let t = ctype(if p.width <= 8 {
            "8"
        } else if p.width <= 16 {
            "16"
        } else if p.width <= 32 {
            "32"
        } else {
            "64"
        });
        let _ = writeln!(
            s,
            "    case {i}: s->top->{} = static_cast<{t}>(v & {}); return 0;",
            p.name,
            mask64(p.width)
        );
    }
    let _ = writeln!(s, "    default: return -1;\n    }}\n}}");
    let _ = writeln!(
        s,
        "uint64_t vlshim_{md}_get64(const void* p, uint32_t idx) {{"
    );
    let _ = writeln!(
        s,
        "    const S* s = static_cast<const S*>(p);\n    switch (idx) {{"
    );
    for (i, p) in m.ports.iter().enumerate() {
        if p.width > 64 {
            continue;
        }
        let _ = writeln!(
            s,
            "    case {i}: return static_cast<uint64_t>(s->top->{});",
            p.name
        );
    }
    let _ = writeln!(s, "    default: return 0;\n    }}\n}}");
    // word arrays (any width)
    let _ = writeln!(
        s,
        "int vlshim_{md}_set_words(void* p, uint32_t idx, const uint32_t* w) {{"
    );
    let _ = writeln!(s, "    S* s = static_cast<S*>(p);\n    switch (idx) {{");
    for (i, p) in m.ports.iter().enumerate() {
        if p.dir != Dir::Input {
            continue;
        }
        let n = &p.name;
        if p.width <= 32 {
            let t = ctype(if p.width <= 8 {
                "8"
            } else if p.width <= 16 {
                "16"
            } else {
                "32"
            });
            let _ = writeln!(
                s,
                "    case {i}: s->top->{n} = static_cast<{t}>(w[0] & {}); return 0;",
                mask64(p.width)
            );
        } else if p.width <= 64 {
            let _ = writeln!(
                s,
                "    case {i}: s->top->{n} = ((static_cast<QData>(w[1]) << 32) | w[0]) & {}; return 0;",
                mask64(p.width)
            );
        } else {
            let nw = words_of(p.width);
            let _ = writeln!(
                s,
                "    case {i}: for (int k = 0; k < {nw}; ++k) s->top->{n}[k] = w[k]; s->top->{n}[{}] &= {}; return 0;",
                nw - 1,
                last_word_mask(p.width)
            );
        }
    }
    let _ = writeln!(s, "    default: return -1;\n    }}\n}}");
    let _ = writeln!(
        s,
        "int vlshim_{md}_get_words(const void* p, uint32_t idx, uint32_t* w) {{"
    );
    let _ = writeln!(
        s,
        "    const S* s = static_cast<const S*>(p);\n    switch (idx) {{"
    );
    for (i, p) in m.ports.iter().enumerate() {
        let n = &p.name;
        if p.width <= 32 {
            let _ = writeln!(
                s,
                "    case {i}: w[0] = static_cast<uint32_t>(s->top->{n}); return 0;"
            );
        } else if p.width <= 64 {
            let _ = writeln!(
                s,
                "    case {i}: {{ const QData v = s->top->{n}; w[0] = static_cast<uint32_t>(v); w[1] = static_cast<uint32_t>(v >> 32); return 0; }}"
            );
        } else {
            let nw = words_of(p.width);
            let _ = writeln!(
                s,
                "    case {i}: for (int k = 0; k < {nw}; ++k) w[k] = s->top->{n}[k]; return 0;"
            );
        }
    }
    let _ = writeln!(s, "    default: return -1;\n    }}\n}}");
    let _ = writeln!(
        s,
        "int vlshim_{md}_trace_open(void* p, const char* path, int levels) {{ return vlshim_trace_open<{cls}>(static_cast<S*>(p), path, levels); }}"
    );
    let _ = writeln!(
        s,
        "void vlshim_{md}_trace_close(void* p) {{ vlshim_trace_close<{cls}>(static_cast<S*>(p)); }}"
    );
    let _ = writeln!(
        s,
        "void vlshim_{md}_trace_flush(void* p) {{ vlshim_trace_flush<{cls}>(static_cast<S*>(p)); }}"
    );
    let _ = writeln!(s, "}}  // extern \"C\"");
    s
}

// ---------------------------------------------------------------------------
// models.rs generation

fn gen_models_rs(
    mods: &[ModSpec],
    gen_dir: &Path,
    sweep_dir: Option<&Path>,
    version: &str,
    trace: bool,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by verif/build.rs from {}. Do not edit.\n",
        gen_dir.join("manifest.json").display()
    );
    let _ = writeln!(
        s,
        "/// The directory the models were built from (manifest.json and the Verilog)."
    );
    let _ = writeln!(
        s,
        "pub const RTL_GEN_DIR: &str = {:?};",
        gen_dir.display().to_string()
    );
    let _ = writeln!(
        s,
        "/// The parameter-sweep directory whose models were built too (`RTL_SWEEP_DIR`), \"\" if none."
    );
    let _ = writeln!(
        s,
        "pub const RTL_SWEEP_DIR: &str = {:?};",
        sweep_dir.map_or(String::new(), |d| d.display().to_string())
    );
    let _ = writeln!(
        s,
        "/// `verilator --version` of the Verilator that built the models."
    );
    let _ = writeln!(s, "pub const VERILATOR_VERSION: &str = {version:?};");
    let _ = writeln!(
        s,
        "/// Whether VCD tracing is compiled in (cargo feature `trace`)."
    );
    let _ = writeln!(s, "pub const TRACE_COMPILED: bool = {trace};\n");
    let _ = writeln!(s, "extern \"C\" {{");
    for m in mods {
        let md = &m.module;
        let _ = writeln!(s, "    fn vlshim_{md}_create(seed: u64) -> *mut c_void;");
        let _ = writeln!(s, "    fn vlshim_{md}_destroy(p: *mut c_void);");
        let _ = writeln!(s, "    fn vlshim_{md}_eval(p: *mut c_void);");
        let _ = writeln!(
            s,
            "    fn vlshim_{md}_tick(p: *mut c_void, n: u64) -> c_int;"
        );
        let _ = writeln!(
            s,
            "    fn vlshim_{md}_set64(p: *mut c_void, idx: u32, v: u64) -> c_int;"
        );
        let _ = writeln!(
            s,
            "    fn vlshim_{md}_get64(p: *const c_void, idx: u32) -> u64;"
        );
        let _ = writeln!(
            s,
            "    fn vlshim_{md}_set_words(p: *mut c_void, idx: u32, w: *const u32) -> c_int;"
        );
        let _ = writeln!(
            s,
            "    fn vlshim_{md}_get_words(p: *const c_void, idx: u32, w: *mut u32) -> c_int;"
        );
        let _ = writeln!(s, "    fn vlshim_{md}_trace_open(p: *mut c_void, path: *const c_char, levels: c_int) -> c_int;");
        let _ = writeln!(s, "    fn vlshim_{md}_trace_close(p: *mut c_void);");
        let _ = writeln!(s, "    fn vlshim_{md}_trace_flush(p: *mut c_void);");
    }
    let _ = writeln!(s, "}}\n");
    let _ = writeln!(s, "/// Every verilated module, in manifest order.");
    let _ = writeln!(s, "pub static MODELS: &[ModelInfo] = &[");
    for m in mods {
        let md = &m.module;
        let _ = writeln!(s, "    ModelInfo {{");
        let _ = writeln!(s, "        name: {md:?},");
        let _ = writeln!(s, "        file: {:?},", m.file);
        let _ = writeln!(s, "        kind: {:?},", m.kind);
        match m.latency {
            Some(l) => {
                let _ = writeln!(s, "        latency: Some({l}),");
            }
            None => {
                let _ = writeln!(s, "        latency: None,");
            }
        }
        let _ = writeln!(s, "        params_json: {:?},", m.params_json);
        let _ = writeln!(s, "        ports: &[");
        for p in &m.ports {
            let d = if p.dir == Dir::Input {
                "Input"
            } else {
                "Output"
            };
            let _ = writeln!(
                s,
                "            PortInfo {{ name: {:?}, dir: Dir::{d}, width: {} }},",
                p.name, p.width
            );
        }
        let _ = writeln!(s, "        ],");
        let _ = writeln!(s, "        clock: {:?},", clock_port(m).map(|i| i as u32));
        let _ = writeln!(
            s,
            "        reset: {:?},",
            reset_port(m).map(|(i, h)| (i as u32, h))
        );
        let _ = writeln!(s, "        vt: VTable {{");
        for f in [
            "create",
            "destroy",
            "eval",
            "tick",
            "set64",
            "get64",
            "set_words",
            "get_words",
            "trace_open",
            "trace_close",
            "trace_flush",
        ] {
            let _ = writeln!(s, "            {f}: vlshim_{md}_{f},");
        }
        let _ = writeln!(s, "        }},");
        let _ = writeln!(s, "    }},");
    }
    let _ = writeln!(s, "];");
    s
}

// ---------------------------------------------------------------------------
// object cache

/// `<target>/verif-vl-cache` from OUT_DIR = `<target>/<profile>/build/<pkg>-<hash>/out`.
fn cache_root(out_dir: &Path) -> PathBuf {
    match env::var_os("VERIF_VL_CACHE") {
        Some(v) if v == "off" || v == "0" => return out_dir.join("vlcache"),
        Some(v) if !v.is_empty() => return PathBuf::from(v),
        _ => {}
    }
    for anc in out_dir.ancestors().skip(1).take(4) {
        if anc.file_name().is_some_and(|n| n == "build") {
            if let Some(target) = anc.parent().and_then(Path::parent) {
                return target.join("verif-vl-cache");
            }
        }
    }
    out_dir.join("vlcache")
}

/// One cache entry: a directory `<root>/<group>-<key>` holding `obj/*.o` and,
/// once complete, a `DONE` file listing them.
struct Entry {
    group: String,
    dir: PathBuf,
    /// Some(objects) if already complete.
    hit: Option<Vec<PathBuf>>,
}

fn open_entry(root: &Path, group: &str, key: &str) -> Entry {
    let dir = root.join(format!("{group}-{key}"));
    let done = dir.join("DONE");
    if let Ok(list) = fs::read_to_string(&done) {
        let objs: Vec<PathBuf> = list
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| dir.join("obj").join(l))
            .collect();
        if !objs.is_empty() && objs.iter().all(|o| o.is_file()) {
            // mark as recently used (for pruning)
            let _ = fs::write(dir.join("USED"), b"");
            return Entry {
                group: group.into(),
                dir,
                hit: Some(objs),
            };
        }
    }
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("obj")).unwrap_or_else(|e| fail!("{}: {e}", dir.display()));
    Entry {
        group: group.into(),
        dir,
        hit: None,
    }
}

/// Moves compiled objects into the entry and marks it complete.
fn finish_entry(e: &Entry, objs: &[PathBuf]) -> Vec<PathBuf> {
    let mut names = String::new();
    let mut out = Vec::new();
    for (k, o) in objs.iter().enumerate() {
        let name = format!("{k:03}-{}", o.file_name().unwrap().to_string_lossy());
        let dst = e.dir.join("obj").join(&name);
        if fs::rename(o, &dst).is_err() {
            fs::copy(o, &dst)
                .unwrap_or_else(|err| fail!("copy {} -> {}: {err}", o.display(), dst.display()));
        }
        names.push_str(&name);
        names.push('\n');
        out.push(dst);
    }
    let _ = fs::write(e.dir.join("USED"), b"");
    fs::write(e.dir.join("DONE"), names).unwrap_or_else(|err| fail!("{}: {err}", e.dir.display()));
    out
}

/// Keeps, per group, the entries in use now plus the two most recently used others.
fn prune(root: &Path, in_use: &[&Entry]) {
    let Ok(rd) = fs::read_dir(root) else { return };
    let mut by_group: BTreeMap<String, Vec<(std::time::SystemTime, PathBuf)>> = BTreeMap::new();
    for d in rd.flatten() {
        let p = d.path();
        if !p.is_dir() || in_use.iter().any(|e| e.dir == p) {
            continue;
        }
        let name = d.file_name().to_string_lossy().into_owned();
        let Some((group, key)) = name.rsplit_once('-') else {
            continue;
        };
        if key.len() != 16 || !in_use.iter().any(|e| e.group == group) {
            continue;
        }
        let t = fs::metadata(p.join("USED"))
            .and_then(|m| m.modified())
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        by_group.entry(group.to_string()).or_default().push((t, p));
    }
    for (_, mut v) in by_group {
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (_, p) in v.into_iter().skip(2) {
            let _ = fs::remove_dir_all(p);
        }
    }
}

// ---------------------------------------------------------------------------

fn main() {
    let t_start = std::time::Instant::now();
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let ws_root = manifest_dir.parent().unwrap().to_path_buf();
    let cpp_dir = manifest_dir.join("cpp");

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cpp");
    for v in [
        "RTL_GEN_DIR",
        "RTL_SWEEP_DIR",
        "VERILATOR",
        "VERILATOR_ROOT",
        "VERIF_VL_CACHE",
    ] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    let trace = env::var_os("CARGO_FEATURE_TRACE").is_some();

    // --- inputs
    let dir_of = |var: &str| match env::var_os(var) {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            Some(if d.is_absolute() { d } else { ws_root.join(d) })
        }
        _ => None,
    };
    let gen_dir = dir_of("RTL_GEN_DIR").unwrap_or_else(|| ws_root.join("generated"));
    let sweep_dir = dir_of("RTL_SWEEP_DIR");
    let manifest = gen_dir.join("manifest.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    if !manifest.is_file() {
        fail!(
            "generated/manifest.json not found: run `make rtl` first (looked for {})",
            manifest.display()
        );
    }
    let mut mods = parse_manifest(&manifest, &gen_dir);
    if let Some(dir) = &sweep_dir {
        let sweep_manifest = dir.join("manifest.json");
        println!("cargo:rerun-if-changed={}", sweep_manifest.display());
        if !sweep_manifest.is_file() {
            fail!(
                "RTL_SWEEP_DIR={}: no manifest.json (write one with `rtl-gen sweep --out {}`)",
                dir.display(),
                dir.display()
            );
        }
        for m in parse_manifest(&sweep_manifest, dir) {
            if mods.iter().any(|o| o.module == m.module) {
                fail!(
                    "module {} is in both {} and {}",
                    m.module,
                    manifest.display(),
                    sweep_manifest.display()
                );
            }
            mods.push(m);
        }
    }
    let (version, vroot) = find_verilator();
    let vinc = vroot.join("include");
    println!(
        "cargo:rerun-if-changed={}",
        vinc.join("verilated.h").display()
    );

    // --- compiler (one configuration for everything: -O2 whatever the profile)
    let mut base = cc::Build::new();
    base.cpp(true)
        .opt_level(2)
        .debug(false)
        .warnings(false)
        .extra_warnings(false)
        .flag("-std=c++17")
        .flag("-faligned-new")
        .flag("-w")
        .include(&vinc)
        .include(vinc.join("vltstd"))
        .include(&cpp_dir)
        .define("VM_COVERAGE", "0")
        .define("VM_SC", "0")
        .define("VM_TRACE", if trace { "1" } else { "0" })
        .define("VM_TRACE_VCD", if trace { "1" } else { "0" })
        .define("VM_TRACE_FST", "0")
        .cpp_link_stdlib(None); // link directives are emitted below
    let compiler = base.get_compiler();
    let cc_version = Command::new(compiler.path())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut ck = Fnv::new();
    ck.str(SHIM_ABI)
        .str(&version)
        .str(&vroot.display().to_string())
        .str(&cc_version);
    ck.str(&compiler.path().display().to_string());
    for a in compiler.args() {
        ck.str(&a.to_string_lossy());
    }
    let shim_h = fs::read(cpp_dir.join("vlshim.h")).unwrap_or_else(|e| fail!("cpp/vlshim.h: {e}"));
    let shim_common = fs::read(cpp_dir.join("vlshim_common.cpp"))
        .unwrap_or_else(|e| fail!("cpp/vlshim_common.cpp: {e}"));
    ck.bytes(&shim_h)
        .str(if trace { "trace" } else { "notrace" });
    let base_key = ck.0;
    let compiler_line = format!(
        "{} {}",
        compiler.path().display(),
        compiler
            .args()
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );

    // --- cache
    let root = cache_root(&out_dir);
    fs::create_dir_all(&root).unwrap_or_else(|e| fail!("{}: {e}", root.display()));
    let lock_file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("lock"))
        .unwrap_or_else(|e| fail!("{}: {e}", root.join("lock").display()));
    lock_file
        .lock()
        .unwrap_or_else(|e| fail!("lock {}: {e}", root.display()));

    // runtime
    let mut rt_files: Vec<PathBuf> = vec![
        vinc.join("verilated.cpp"),
        vinc.join("verilated_threads.cpp"),
    ];
    if trace {
        rt_files.push(vinc.join("verilated_vcd_c.cpp"));
    }
    rt_files.push(cpp_dir.join("vlshim_common.cpp"));
    let mut rk = Fnv(base_key);
    rk.str("runtime").bytes(&shim_common);
    for f in &rt_files {
        rk.str(&f.display().to_string());
        rk.bytes(&fs::read(f).unwrap_or_default());
    }
    let rt_entry = open_entry(&root, "runtime", &rk.hex());
    let rt_globals: Vec<&str> = if trace {
        vec!["verilated", "verilated_threads", "verilated_vcd_c"]
    } else {
        vec!["verilated", "verilated_threads"]
    };

    // models
    let mut entries: Vec<(Entry, &ModSpec)> = Vec::new();
    for m in &mods {
        let mut k = Fnv(base_key);
        k.str("module").str(&m.module).str(&m.file).bytes(&m.source);
        // Verilator flags minus the paths (which do not change the output)
        for a in verilator_args(m, Path::new("-"), Path::new("-"), trace) {
            k.str(&a);
        }
        for p in &m.ports {
            k.str(&p.name).str(&format!("{:?}{}", p.dir, p.width));
        }
        entries.push((open_entry(&root, &format!("mod_{}", m.module), &k.hex()), m));
    }

    // --- verilate the models that are not cached (in parallel: they are quick)
    let misses: Vec<&(Entry, &ModSpec)> = entries.iter().filter(|(e, _)| e.hit.is_none()).collect();
    let jobs: usize = env::var("NUM_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(2)
        .max(1);
    let mut tus: Vec<(usize, Vec<PathBuf>)> = Vec::new(); // (entry index, translation units)
    for chunk in misses.chunks(jobs) {
        let results: Vec<Result<(Vec<PathBuf>, String), String>> = std::thread::scope(|sc| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|(e, m)| sc.spawn(|| verilate(m, &e.dir, trace, &rt_globals)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for ((e, m), r) in chunk.iter().zip(results) {
            match r {
                Ok((units, warnings)) => {
                    if !warnings.is_empty() {
                        eprintln!("{warnings}");
                        let n = warnings
                            .lines()
                            .filter(|l| l.starts_with("%Warning"))
                            .count();
                        println!(
                            "cargo:warning=verilator: {} warning(s) for module {} (run `verilator --lint-only -Wall {}`)",
                            n,
                            m.module,
                            m.dir.join(&m.file).display()
                        );
                    }
                    let idx = entries.iter().position(|(x, _)| x.dir == e.dir).unwrap();
                    tus.push((idx, units));
                }
                Err(msg) => fail!("{msg}"),
            }
        }
    }

    // --- compile everything that is missing, in one parallel batch
    let mut batch: Vec<(Option<usize>, PathBuf)> = Vec::new(); // (None = runtime, Some(entry))
    if rt_entry.hit.is_none() {
        for f in &rt_files {
            batch.push((None, f.clone()));
        }
    }
    for (idx, units) in &tus {
        for u in units {
            batch.push((Some(*idx), u.clone()));
        }
    }
    let t_compile = std::time::Instant::now();
    let mut compiled: BTreeMap<Option<usize>, Vec<PathBuf>> = BTreeMap::new();
    if !batch.is_empty() {
        let scratch = out_dir.join("objs");
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch).unwrap_or_else(|e| fail!("{}: {e}", scratch.display()));
        let mut b = base.clone();
        b.out_dir(&scratch);
        for (_, f) in &batch {
            b.file(f);
        }
        let objs = b
            .try_compile_intermediates()
            .unwrap_or_else(|e| fail!("C++ compilation failed: {e}"));
        assert_eq!(objs.len(), batch.len());
        for ((g, _), o) in batch.iter().zip(objs) {
            compiled.entry(*g).or_default().push(o);
        }
    }
    let compile_secs = t_compile.elapsed().as_secs_f64();

    let mut all_objs: Vec<PathBuf> = Vec::new();
    all_objs.extend(match &rt_entry.hit {
        Some(o) => o.clone(),
        None => finish_entry(&rt_entry, &compiled[&None]),
    });
    for (i, (e, _)) in entries.iter().enumerate() {
        all_objs.extend(match &e.hit {
            Some(o) => o.clone(),
            None => finish_entry(e, &compiled[&Some(i)]),
        });
    }
    let mut in_use: Vec<&Entry> = entries.iter().map(|(e, _)| e).collect();
    in_use.push(&rt_entry);
    prune(&root, &in_use);

    // --- one static library, linked into the crate
    let mut ab = base.clone();
    ab.out_dir(&out_dir);
    let lib = ab
        .try_create_archive("verif_vl", &all_objs)
        .unwrap_or_else(|e| fail!("creating the static library failed: {e}"));
    drop(lock_file);
    println!(
        "cargo:rustc-link-search=native={}",
        lib.parent().unwrap().display()
    );
    println!("cargo:rustc-link-lib=static=verif_vl");
    println!(
        "cargo:rustc-link-lib=dylib={}",
        env::var("CXXSTDLIB")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "stdc++".into())
    );
    println!("cargo:rerun-if-env-changed=CXXSTDLIB");
    println!("cargo:rustc-link-lib=dylib=atomic");
    println!("cargo:rustc-link-lib=dylib=pthread");
    println!("cargo:rustc-env=VERIF_RTL_GEN_DIR={}", gen_dir.display());

    // --- registry
    let rs = gen_models_rs(&mods, &gen_dir, sweep_dir.as_deref(), &version, trace);
    let rs_path = out_dir.join("models.rs");
    if fs::read_to_string(&rs_path).ok().as_deref() != Some(rs.as_str()) {
        fs::write(&rs_path, rs).unwrap_or_else(|e| fail!("{}: {e}", rs_path.display()));
    }

    let cached = entries.iter().filter(|(e, _)| e.hit.is_some()).count();
    let summary = format!(
        "verif build.rs: {} module(s) ({} cached, {} verilated), runtime {}, {} object(s) compiled in {:.1} s, total {:.1} s, cache {}\n",
        mods.len(),
        cached,
        mods.len() - cached,
        if rt_entry.hit.is_some() { "cached" } else { "compiled" },
        batch.len(),
        compile_secs,
        t_start.elapsed().as_secs_f64(),
        root.display()
    ) + &format!("compiler: {compiler_line}\n");
    eprint!("{summary}");
    let _ = fs::write(out_dir.join("build-summary.txt"), summary);
    let _ = io::stdout().flush();
}

/// Runs Verilator for one module into `<entry>/vl`, writes the shim and the
/// translation units that include the generated sources. Returns the units
/// and Verilator's warnings.
fn verilate(
    m: &ModSpec,
    entry: &Path,
    trace: bool,
    rt_globals: &[&str],
) -> Result<(Vec<PathBuf>, String), String> {
    let mdir = entry.join("vl");
    let _ = fs::remove_dir_all(&mdir);
    let vfile = m.dir.join(&m.file);
    let args = verilator_args(m, &vfile, &mdir, trace);
    let bin = verilator_bin();
    let (ok, out, err) = run_capture(Command::new(&bin).args(&args))
        .map_err(|e| format!("cannot run {bin}: {e}"))?;
    if !ok {
        return Err(format!(
            "verilator failed for module {} ({}):\n  {bin} {}\n{out}{err}",
            m.module,
            vfile.display(),
            args.join(" ")
        ));
    }
    let cls = format!("V{}", m.module);

    // ports: the manifest must match what Verilator saw
    let hdr_path = mdir.join(format!("{cls}.h"));
    let hdr = fs::read_to_string(&hdr_path).map_err(|e| format!("{}: {e}", hdr_path.display()))?;
    let hports = parse_header_ports(&hdr);
    let mut problems = Vec::new();
    for p in &m.ports {
        match hports.get(&p.name) {
            None => problems.push(format!(
                "port {} is not a top-level port of the Verilog",
                p.name
            )),
            Some(h) => {
                if h.width != p.width {
                    problems.push(format!(
                        "port {}: manifest width {}, Verilog width {}",
                        p.name, p.width, h.width
                    ));
                }
                if h.dir != p.dir {
                    problems.push(format!(
                        "port {}: manifest dir {:?}, Verilog dir {:?}",
                        p.name, p.dir, h.dir
                    ));
                }
                let want = match p.width {
                    0..=8 => "8",
                    9..=16 => "16",
                    17..=32 => "32",
                    33..=64 => "64",
                    _ => "W",
                };
                if h.kind != want {
                    problems.push(format!(
                        "port {}: unexpected Verilator storage VL_*{}",
                        p.name, h.kind
                    ));
                }
            }
        }
    }
    for n in hports.keys() {
        if !m.ports.iter().any(|p| &p.name == n) {
            problems.push(format!("Verilog port {n} is missing from the manifest"));
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "manifest.json and {} disagree on module {}:\n  {}",
            vfile.display(),
            m.module,
            problems.join("\n  ")
        ));
    }

    // sources, from Verilator's own class lists
    let mk_path = mdir.join(format!("{cls}_classes.mk"));
    let mk = fs::read_to_string(&mk_path).map_err(|e| format!("{}: {e}", mk_path.display()))?;
    let lists = parse_classes_mk(&mk);
    let mut classes: Vec<String> = Vec::new();
    for var in [
        "VM_CLASSES_FAST",
        "VM_CLASSES_SLOW",
        "VM_SUPPORT_FAST",
        "VM_SUPPORT_SLOW",
    ] {
        classes.extend(lists.get(var).cloned().unwrap_or_default());
    }
    if classes.is_empty() {
        return Err(format!("{}: no classes listed", mk_path.display()));
    }
    for var in ["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"] {
        for g in lists.get(var).into_iter().flatten() {
            if !rt_globals.contains(&g.as_str()) {
                return Err(format!(
                    "module {} needs Verilator runtime file {g}.cpp, which verif/build.rs does not compile",
                    m.module
                ));
            }
        }
    }
    // Every generated .cpp must be listed (else a new Verilator changed the layout).
    let listed: Vec<String> = classes.iter().map(|c| format!("{c}.cpp")).collect();
    for f in fs::read_dir(&mdir).map_err(|e| e.to_string())?.flatten() {
        let n = f.file_name().to_string_lossy().into_owned();
        if n.ends_with(".cpp") && !listed.contains(&n) {
            return Err(format!(
                "{}: {n} is not in {cls}_classes.mk",
                mdir.display()
            ));
        }
    }

    // the shim
    let shim_name = format!("vlshim_{}.cpp", m.module);
    fs::write(mdir.join(&shim_name), gen_shim(m)).map_err(|e| e.to_string())?;

    // translation units: the listed sources in order, ~TU_BUDGET bytes each, shim in the last
    let mut units: Vec<Vec<String>> = vec![Vec::new()];
    let mut size = 0u64;
    for f in listed.iter().chain(std::iter::once(&shim_name)) {
        let sz = fs::metadata(mdir.join(f)).map(|x| x.len()).unwrap_or(0);
        if size > 0 && size + sz > TU_BUDGET {
            units.push(Vec::new());
            size = 0;
        }
        units.last_mut().unwrap().push(f.clone());
        size += sz;
    }
    let mut paths = Vec::new();
    for (k, u) in units.iter().enumerate() {
        let mut t =
            String::from("// Generated by verif/build.rs: one translation unit of the model.\n");
        for f in u {
            let _ = writeln!(t, "#include \"{f}\"");
        }
        let p = mdir.join(format!("vltu_{}_{k}.cpp", m.module));
        fs::write(&p, t).map_err(|e| e.to_string())?;
        paths.push(p);
    }
    let warnings = if err.contains("%Warning") {
        err
    } else {
        String::new()
    };
    Ok((paths, warnings))
}
