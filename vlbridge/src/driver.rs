//! The build itself, for a build script: [`Options`] from cargo's environment,
//! then [`build`] (manifests -> Verilator -> shims -> one parallel compile ->
//! `libverif_vl.a` + models.rs), with the `cargo:` directives it needs; and
//! [`main`], which does both and turns an error into `cargo::error` lines.
//!
//! Everything is compiled with one `cc` configuration (-O2 whatever the cargo
//! profile: the models are only useful fast) in one parallel batch: the
//! runtime if its cache entry is missing, and every model whose entry is
//! missing (Verilator runs first, for all of those models, NUM_JOBS at a time).

use crate::cache::{self, Entry, Toolchain};
use crate::manifest::{self, ModSpec};
use crate::registry;
use crate::shim;
use crate::verilator::{self, Verilator};
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{exit, Command};
use std::time::Instant;

/// Environment variables the build depends on (besides cargo's and the compiler's).
pub const ENV_VARS: [&str; 5] = [
    "RTL_GEN_DIR",
    "RTL_SWEEP_DIR",
    "VERILATOR",
    "VERILATOR_ROOT",
    "VERIF_VL_CACHE",
];

/// The shim sources compiled with every model (vlshim.h, vlshim_common.cpp).
pub fn cpp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cpp")
}

/// What to build, and where.
#[derive(Clone, Debug)]
pub struct Options {
    /// Directory of the default `manifest.json` and its Verilog.
    pub gen_dir: PathBuf,
    /// Directory of a second manifest (the parameter sweep), if any.
    pub sweep_dir: Option<PathBuf>,
    /// Where `libverif_vl.a`, `models.rs` and `build-summary.txt` go.
    pub out_dir: PathBuf,
    /// The object cache ([`cache::cache_root`]).
    pub cache_root: PathBuf,
    /// Directory with vlshim.h and vlshim_common.cpp ([`cpp_dir`]).
    pub cpp_dir: PathBuf,
    /// Compile VCD tracing in.
    pub trace: bool,
    /// How many Verilator runs at once.
    pub jobs: usize,
}

impl Options {
    /// From a build script's environment: `RTL_GEN_DIR` (default
    /// `<workspace>/generated`) and `RTL_SWEEP_DIR`, relative ones taken from the
    /// workspace root (the parent of CARGO_MANIFEST_DIR); OUT_DIR;
    /// `VERIF_VL_CACHE`; the `trace` feature; NUM_JOBS.
    pub fn from_cargo_env() -> Options {
        let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
        let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
        let ws_root = manifest_dir.parent().unwrap().to_path_buf();
        let dir_of = |var: &str| match env::var_os(var) {
            Some(d) if !d.is_empty() => {
                let d = PathBuf::from(d);
                Some(if d.is_absolute() { d } else { ws_root.join(d) })
            }
            _ => None,
        };
        Options {
            gen_dir: dir_of("RTL_GEN_DIR").unwrap_or_else(|| ws_root.join("generated")),
            sweep_dir: dir_of("RTL_SWEEP_DIR"),
            cache_root: cache::cache_root(&out_dir, env::var_os("VERIF_VL_CACHE").as_deref()),
            out_dir,
            cpp_dir: cpp_dir(),
            trace: env::var_os("CARGO_FEATURE_TRACE").is_some(),
            jobs: env::var("NUM_JOBS")
                .ok()
                .and_then(|j| j.parse().ok())
                .unwrap_or(2)
                .max(1),
        }
    }
}

/// The whole build script: `rerun-if` directives, [`build`] with
/// [`Options::from_cargo_env`], and on error `cargo::error` lines and exit 1.
pub fn main() {
    let t_start = Instant::now();
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", cpp_dir().display());
    for v in ENV_VARS {
        println!("cargo:rerun-if-env-changed={v}");
    }
    if let Err(msg) = build(&Options::from_cargo_env(), t_start) {
        fail(&msg);
    }
}

/// Reports `msg` to cargo and exits.
pub fn fail(msg: &str) -> ! {
    // cargo::error shows the message on its own; stderr keeps it in the log too.
    for line in msg.lines() {
        println!("cargo::error={line}");
    }
    eprintln!("error: {msg}");
    let _ = io::stdout().flush();
    exit(1);
}

/// The modules of both manifests (default first, then the sweep's), each
/// module name only once.
pub fn load_modules(opts: &Options) -> Result<Vec<ModSpec>, String> {
    let manifest = opts.gen_dir.join("manifest.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    if !manifest.is_file() {
        return Err(format!(
            "generated/manifest.json not found: run `make rtl` first (looked for {})",
            manifest.display()
        ));
    }
    let mut mods = manifest::load_manifest(&manifest, &opts.gen_dir)?;
    if let Some(dir) = &opts.sweep_dir {
        let sweep_manifest = dir.join("manifest.json");
        println!("cargo:rerun-if-changed={}", sweep_manifest.display());
        if !sweep_manifest.is_file() {
            return Err(format!(
                "RTL_SWEEP_DIR={}: no manifest.json (write one with `rtl-gen sweep --out {}`)",
                dir.display(),
                dir.display()
            ));
        }
        for m in manifest::load_manifest(&sweep_manifest, dir)? {
            if mods.iter().any(|o| o.module == m.module) {
                return Err(format!(
                    "module {} is in both {} and {}",
                    m.module,
                    manifest.display(),
                    sweep_manifest.display()
                ));
            }
            mods.push(m);
        }
    }
    Ok(mods)
}

/// Builds every model of the manifests in `opts` into `<out_dir>/libverif_vl.a`
/// and `<out_dir>/models.rs`, printing the link directives. `t_start` is when
/// the build script started (for the summary).
pub fn build(opts: &Options, t_start: Instant) -> Result<(), String> {
    let (out_dir, cpp_dir, trace) = (&opts.out_dir, &opts.cpp_dir, opts.trace);
    let mods = load_modules(opts)?;
    let vl = verilator::find()?;
    let vinc = vl.root.join("include");
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
        .include(cpp_dir)
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
    let compiler_args: Vec<String> = compiler
        .args()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let read_cpp = |name: &str| {
        fs::read(cpp_dir.join(name)).map_err(|e| format!("cpp/{name}: {e}"))
    };
    let shim_h = read_cpp("vlshim.h")?;
    let shim_common = read_cpp("vlshim_common.cpp")?;
    let base_key = cache::base_key(&Toolchain {
        verilator_version: &vl.version,
        verilator_root: &vl.root,
        cc_version: &cc_version,
        compiler_path: compiler.path(),
        compiler_args: &compiler_args,
        shim_h: &shim_h,
        trace,
    });
    let compiler_line = format!("{} {}", compiler.path().display(), compiler_args.join(" "));

    // --- cache
    let root = &opts.cache_root;
    let lock_file = cache::lock(root)?;

    // runtime
    let mut rt_files: Vec<PathBuf> = vec![
        vinc.join("verilated.cpp"),
        vinc.join("verilated_threads.cpp"),
    ];
    if trace {
        rt_files.push(vinc.join("verilated_vcd_c.cpp"));
    }
    rt_files.push(cpp_dir.join("vlshim_common.cpp"));
    let rt_sources: Vec<(PathBuf, Vec<u8>)> = rt_files
        .iter()
        .map(|f| (f.clone(), fs::read(f).unwrap_or_default()))
        .collect();
    let rt_entry = cache::open_entry(
        root,
        "runtime",
        &cache::runtime_key(base_key, &shim_common, &rt_sources),
    )?;
    let rt_globals: Vec<&str> = if trace {
        vec!["verilated", "verilated_threads", "verilated_vcd_c"]
    } else {
        vec!["verilated", "verilated_threads"]
    };

    // models
    let mut entries: Vec<(Entry, &ModSpec)> = Vec::new();
    for m in &mods {
        let key = cache::module_key(base_key, m, trace);
        entries.push((cache::open_entry(root, &format!("mod_{}", m.module), &key)?, m));
    }

    // --- verilate the models that are not cached (in parallel: they are quick)
    let misses: Vec<&(Entry, &ModSpec)> = entries.iter().filter(|(e, _)| e.hit.is_none()).collect();
    let mut tus: Vec<(usize, Vec<PathBuf>)> = Vec::new(); // (entry index, translation units)
    for chunk in misses.chunks(opts.jobs) {
        let results: Vec<Result<(Vec<PathBuf>, String), String>> = std::thread::scope(|sc| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|(e, m)| sc.spawn(|| prepare_model(&vl, m, &e.dir, trace, &rt_globals)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for ((e, m), r) in chunk.iter().zip(results) {
            let (units, warnings) = r?;
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
                    m.vfile().display()
                );
            }
            let idx = entries.iter().position(|(x, _)| x.dir == e.dir).unwrap();
            tus.push((idx, units));
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
    let t_compile = Instant::now();
    let mut compiled: BTreeMap<Option<usize>, Vec<PathBuf>> = BTreeMap::new();
    if !batch.is_empty() {
        let scratch = out_dir.join("objs");
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let mut b = base.clone();
        b.out_dir(&scratch);
        for (_, f) in &batch {
            b.file(f);
        }
        let objs = b
            .try_compile_intermediates()
            .map_err(|e| format!("C++ compilation failed: {e}"))?;
        assert_eq!(objs.len(), batch.len());
        for ((g, _), o) in batch.iter().zip(objs) {
            compiled.entry(*g).or_default().push(o);
        }
    }
    let compile_secs = t_compile.elapsed().as_secs_f64();

    let mut all_objs: Vec<PathBuf> = Vec::new();
    all_objs.extend(match &rt_entry.hit {
        Some(o) => o.clone(),
        None => cache::finish_entry(&rt_entry, &compiled[&None])?,
    });
    for (i, (e, _)) in entries.iter().enumerate() {
        all_objs.extend(match &e.hit {
            Some(o) => o.clone(),
            None => cache::finish_entry(e, &compiled[&Some(i)])?,
        });
    }
    let mut in_use: Vec<&Entry> = entries.iter().map(|(e, _)| e).collect();
    in_use.push(&rt_entry);
    cache::prune(root, &in_use);

    // --- one static library, linked into the crate
    let mut ab = base.clone();
    ab.out_dir(out_dir);
    let lib = ab
        .try_create_archive("verif_vl", &all_objs)
        .map_err(|e| format!("creating the static library failed: {e}"))?;
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
    println!("cargo:rustc-env=VERIF_RTL_GEN_DIR={}", opts.gen_dir.display());

    // --- registry
    let rs = registry::gen_models_rs(
        &mods,
        &opts.gen_dir,
        opts.sweep_dir.as_deref(),
        &vl.version,
        trace,
    );
    let rs_path = out_dir.join("models.rs");
    if fs::read_to_string(&rs_path).ok().as_deref() != Some(rs.as_str()) {
        fs::write(&rs_path, rs).map_err(|e| format!("{}: {e}", rs_path.display()))?;
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
    Ok(())
}

/// Verilates `m` into `<entry>/vl` and writes its shim and translation units
/// there. Returns the units and Verilator's warnings.
fn prepare_model(
    vl: &Verilator,
    m: &ModSpec,
    entry: &Path,
    trace: bool,
    rt_globals: &[&str],
) -> Result<(Vec<PathBuf>, String), String> {
    let v = verilator::verilate(&vl.bin, m, entry, trace, rt_globals)?;
    let mdir = &v.mdir;

    let shim_name = shim::shim_file_name(m);
    fs::write(mdir.join(&shim_name), shim::gen_shim(m)).map_err(|e| e.to_string())?;

    // translation units: the listed sources in order, ~TU_BUDGET bytes each, shim in the last
    let sized: Vec<(String, u64)> = v
        .sources
        .iter()
        .chain(std::iter::once(&shim_name))
        .map(|f| {
            let sz = fs::metadata(mdir.join(f)).map(|x| x.len()).unwrap_or(0);
            (f.clone(), sz)
        })
        .collect();
    let mut paths = Vec::new();
    for (k, u) in shim::split_units(&sized, shim::TU_BUDGET).iter().enumerate() {
        let p = mdir.join(shim::tu_file_name(m, k));
        fs::write(&p, shim::tu_text(u)).map_err(|e| e.to_string())?;
        paths.push(p);
    }
    Ok((paths, v.warnings))
}
