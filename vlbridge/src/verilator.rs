//! Verilator itself: finding it, the `verilator --cc` argument list, running it
//! for one module, and reading back what it wrote.
//!
//! Two Verilator outputs are parsed rather than assumed:
//! - `V<module>.h`, whose `VL_IN8(&clk,0,0);` ... `VL_OUTW(&y,99,0,4);` lines
//!   give the top-level ports as Verilator saw them; they must agree with the
//!   manifest (name, direction, width, storage type), since the shim indexes
//!   ports by their manifest position;
//! - `V<module>_classes.mk`, whose `VM_CLASSES_*`/`VM_SUPPORT_*` lists name the
//!   generated sources to compile and whose `VM_GLOBAL_*` lists name the runtime
//!   files the model needs (which must be among those we compile once).
//!
//! Every generated `.cpp` must be listed there, so that a Verilator with a
//! different output layout fails loudly instead of linking a partial model.
//! The parsers and checks are pure functions of the text; [`find`] and
//! [`verilate`] do the I/O.

use crate::manifest::{Dir, ModSpec};
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Verilator found by [`find`].
#[derive(Clone, Debug)]
pub struct Verilator {
    /// Executable (`$VERILATOR`, else `verilator`).
    pub bin: String,
    /// `verilator --version`, trimmed (e.g. "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)").
    pub version: String,
    /// VERILATOR_ROOT (holds `include/verilated.cpp`).
    pub root: PathBuf,
}

/// `$VERILATOR`, else `verilator`.
pub fn bin_from_env() -> String {
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

/// Major version from a `verilator --version` line ("Verilator 5.006 ..." -> 5), 0 if unreadable.
pub fn version_major(version: &str) -> u32 {
    version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `verilator --version` and locates VERILATOR_ROOT (`$VERILATOR_ROOT`,
/// else `verilator --getenv VERILATOR_ROOT`, else /usr/share/verilator).
pub fn find() -> Result<Verilator, String> {
    let bin = bin_from_env();
    let version = match run_capture(Command::new(&bin).arg("--version")) {
        Ok((true, out, _)) => out.trim().to_string(),
        Ok((false, out, err)) => return Err(format!("`{bin} --version` failed:\n{out}{err}")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err("verilator not found: apt-get install verilator (Debian 5.006)".into())
        }
        Err(e) => return Err(format!("cannot run `{bin}`: {e}")),
    };
    let root = match env::var_os("VERILATOR_ROOT") {
        Some(r) if !r.is_empty() => PathBuf::from(r),
        _ => match run_capture(Command::new(&bin).args(["--getenv", "VERILATOR_ROOT"])) {
            Ok((true, out, _)) if !out.trim().is_empty() => PathBuf::from(out.trim()),
            _ => PathBuf::from("/usr/share/verilator"),
        },
    };
    if !root.join("include/verilated.cpp").is_file() {
        return Err(format!(
            "{version}: no include/verilated.cpp under VERILATOR_ROOT={}",
            root.display()
        ));
    }
    if version_major(&version) < 5 {
        return Err(format!(
            "{version}: Verilator >= 5 needed (Debian 5.006: apt-get install verilator)"
        ));
    }
    Ok(Verilator {
        bin,
        version,
        root,
    })
}

/// The `verilator` arguments for module `m` from `vfile` into `mdir`.
/// (The cache key hashes them with `-` for both paths.)
pub fn args(m: &ModSpec, vfile: &Path, mdir: &Path, trace: bool) -> Vec<String> {
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HdrPort {
    pub dir: Dir,
    /// Storage: "8", "16", "32", "64" or "W" (`VL_IN8`, `VL_IN16`, `VL_IN`, `VL_IN64`, `VL_INW`).
    pub kind: &'static str,
    pub width: u32,
}

/// The storage Verilator uses for a port of `width` bits ([`HdrPort::kind`]).
pub fn storage_kind(width: u32) -> &'static str {
    match width {
        0..=8 => "8",
        9..=16 => "16",
        17..=32 => "32",
        33..=64 => "64",
        _ => "W",
    }
}

/// `VL_IN8(&clk,0,0);`, `VL_OUTW(&m_data,127,0,4);`, ... from `V<module>.h`.
pub fn parse_header_ports(text: &str) -> BTreeMap<String, HdrPort> {
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

/// `VAR += \` lists from `V<module>_classes.mk`.
pub fn parse_classes_mk(text: &str) -> BTreeMap<String, Vec<String>> {
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

/// Disagreements between the manifest's ports of `m` and the header's `hports`
/// (empty if none).
pub fn check_ports(m: &ModSpec, hports: &BTreeMap<String, HdrPort>) -> Vec<String> {
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
                if h.kind != storage_kind(p.width) {
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
    problems
}

/// The model's generated classes (fast, slow, support; in that order) from the
/// parsed classes.mk `lists`, checking that every runtime file it needs is in
/// `rt_globals`. `mk_path` only names the file in error messages.
pub fn model_classes(
    m: &ModSpec,
    lists: &BTreeMap<String, Vec<String>>,
    rt_globals: &[&str],
    mk_path: &Path,
) -> Result<Vec<String>, String> {
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
    Ok(classes)
}

/// What [`verilate`] produced.
#[derive(Debug)]
pub struct Verilated {
    /// Directory Verilator wrote into (`<entry>/vl`).
    pub mdir: PathBuf,
    /// The generated sources to compile, in classes.mk order (`<class>.cpp`).
    pub sources: Vec<String>,
    /// Verilator's stderr if it has `%Warning`s, else "".
    pub warnings: String,
}

/// Runs Verilator for module `m` into `<entry>/vl` (emptied first) and checks
/// its output: ports against the manifest, the class list, and that every
/// generated .cpp is listed.
pub fn verilate(
    bin: &str,
    m: &ModSpec,
    entry: &Path,
    trace: bool,
    rt_globals: &[&str],
) -> Result<Verilated, String> {
    let mdir = entry.join("vl");
    let _ = fs::remove_dir_all(&mdir);
    let vfile = m.vfile();
    let args = args(m, &vfile, &mdir, trace);
    let (ok, out, err) = run_capture(Command::new(bin).args(&args))
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
    let problems = check_ports(m, &parse_header_ports(&hdr));
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
    let classes = model_classes(m, &parse_classes_mk(&mk), rt_globals, &mk_path)?;
    // Every generated .cpp must be listed (else a new Verilator changed the layout).
    let sources: Vec<String> = classes.iter().map(|c| format!("{c}.cpp")).collect();
    for f in fs::read_dir(&mdir).map_err(|e| e.to_string())?.flatten() {
        let n = f.file_name().to_string_lossy().into_owned();
        if n.ends_with(".cpp") && !sources.contains(&n) {
            return Err(format!(
                "{}: {n} is not in {cls}_classes.mk",
                mdir.display()
            ));
        }
    }
    let warnings = if err.contains("%Warning") {
        err
    } else {
        String::new()
    };
    Ok(Verilated {
        mdir,
        sources,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::{port, spec};
    use Dir::*;

    /// What Verilator 5.006 (Debian 5.006-3) writes for testdata/tiny.v with
    /// [`args`] (`--trace`).
    const TINY_H: &str = include_str!("testdata/Vtiny.h");
    const TINY_MK: &str = include_str!("testdata/Vtiny_classes.mk");

    fn tiny() -> ModSpec {
        spec(
            "tiny",
            vec![
                port("clk", Input, 1),
                port("rst_n", Input, 1),
                port("a", Input, 12),
                port("b", Input, 64),
                port("w", Input, 100),
                port("y", Output, 32),
                port("z", Output, 65),
            ],
        )
    }

    #[test]
    fn header_ports_of_real_sample() {
        let h = parse_header_ports(TINY_H);
        let get = |n: &str| h.get(n).cloned().unwrap();
        assert_eq!(h.len(), 7, "{h:?}");
        let hp = |dir, kind, width| HdrPort { dir, kind, width };
        assert_eq!(get("clk"), hp(Input, "8", 1));
        assert_eq!(get("rst_n"), hp(Input, "8", 1));
        assert_eq!(get("a"), hp(Input, "16", 12));
        assert_eq!(get("b"), hp(Input, "64", 64));
        assert_eq!(get("w"), hp(Input, "W", 100));
        assert_eq!(get("y"), hp(Output, "32", 32));
        assert_eq!(get("z"), hp(Output, "W", 65));
        assert!(check_ports(&tiny(), &h).is_empty());
    }

    #[test]
    fn header_lines_that_are_not_ports() {
        let h = parse_header_ports(
            "    VL_UNCOPYABLE(Vx);\n    VL_IN8(&a,3,0);\n    VL_OUT16(&b,x,0);\n    VL_IN(&c);\n  VL_OUT64(&d,0,40);\n",
        );
        assert_eq!(h.len(), 2);
        assert_eq!(h["a"].width, 4);
        assert_eq!(h["d"].width, 41); // [0:40] counts too
    }

    #[test]
    fn port_disagreements() {
        let h = parse_header_ports(TINY_H);
        let mut m = tiny();
        m.ports[2].width = 16; // a: VL_IN16 either way, but 12 bits in the Verilog
        m.ports[5].dir = Input;
        m.ports[6].width = 64; // z is 65 bits: storage W, not 64
        m.ports.remove(1);
        m.ports.push(port("ghost", Output, 1));
        assert_eq!(
            check_ports(&m, &h),
            vec![
                "port a: manifest width 16, Verilog width 12",
                "port y: manifest dir Input, Verilog dir Output",
                "port z: manifest width 64, Verilog width 65",
                "port z: unexpected Verilator storage VL_*W",
                "port ghost is not a top-level port of the Verilog",
                "Verilog port rst_n is missing from the manifest",
            ]
        );
    }

    #[test]
    fn storage_kinds() {
        let k: Vec<_> = [1, 8, 9, 16, 17, 32, 33, 64, 65, 1024]
            .map(storage_kind)
            .to_vec();
        assert_eq!(k, ["8", "8", "16", "16", "32", "32", "64", "64", "W", "W"]);
    }

    #[test]
    fn classes_mk_of_real_sample() {
        let l = parse_classes_mk(TINY_MK);
        let v = |k: &str| l[k].iter().map(String::as_str).collect::<Vec<_>>();
        assert_eq!(
            v("VM_CLASSES_FAST"),
            [
                "Vtiny",
                "Vtiny___024root__DepSet_h5526d8e0__0",
                "Vtiny___024root__DepSet_ha87f69ff__0"
            ]
        );
        assert_eq!(
            v("VM_CLASSES_SLOW"),
            [
                "Vtiny___024root__Slow",
                "Vtiny___024root__DepSet_h5526d8e0__0__Slow",
                "Vtiny___024root__DepSet_ha87f69ff__0__Slow"
            ]
        );
        assert_eq!(v("VM_SUPPORT_FAST"), ["Vtiny__Trace__0"]);
        assert_eq!(v("VM_SUPPORT_SLOW"), ["Vtiny__Syms", "Vtiny__Trace__0__Slow"]);
        assert_eq!(
            v("VM_GLOBAL_FAST"),
            ["verilated", "verilated_vcd_c", "verilated_threads"]
        );
        assert!(v("VM_GLOBAL_SLOW").is_empty());
        // plain assignments (VM_TRACE = 1) are not lists
        assert_eq!(l.len(), 6, "{l:?}");

        let m = tiny();
        let mk = Path::new("vl/Vtiny_classes.mk");
        let rt = ["verilated", "verilated_threads", "verilated_vcd_c"];
        assert_eq!(
            model_classes(&m, &l, &rt, mk).unwrap(),
            [
                "Vtiny",
                "Vtiny___024root__DepSet_h5526d8e0__0",
                "Vtiny___024root__DepSet_ha87f69ff__0",
                "Vtiny___024root__Slow",
                "Vtiny___024root__DepSet_h5526d8e0__0__Slow",
                "Vtiny___024root__DepSet_ha87f69ff__0__Slow",
                "Vtiny__Trace__0",
                "Vtiny__Syms",
                "Vtiny__Trace__0__Slow",
            ]
        );
        assert_eq!(
            model_classes(&m, &l, &rt[..2], mk).unwrap_err(),
            "module tiny needs Verilator runtime file verilated_vcd_c.cpp, which verif/build.rs does not compile"
        );
        assert_eq!(
            model_classes(&m, &parse_classes_mk("VM_GLOBAL_FAST += \\\n\tverilated \\\n"), &rt, mk)
                .unwrap_err(),
            "vl/Vtiny_classes.mk: no classes listed"
        );
    }

    #[test]
    fn classes_mk_list_forms() {
        let l = parse_classes_mk("A +=\\\n  x \\\n  y\nz\nB += \\\n\n  w \\\n");
        assert_eq!(l["A"], ["x", "y"]); // a line without `\` ends the list
        assert!(l["B"].is_empty()); // so does an empty line
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn argument_list() {
        let m = tiny();
        let a = args(&m, Path::new("/g/tiny.v"), Path::new("/c/vl"), true);
        assert_eq!(
            a.join(" "),
            "--cc /g/tiny.v --top-module tiny --prefix Vtiny -Mdir /c/vl -O3 --x-assign unique \
             --x-initial unique --no-timing --timescale 1ns/1ns -Wno-fatal --trace"
        );
        let b = args(&m, Path::new("/g/tiny.v"), Path::new("/c/vl"), false);
        assert_eq!(b[..], a[..a.len() - 1]);
    }

    #[test]
    fn versions() {
        assert_eq!(version_major("Verilator 5.006 2023-01-22 rev (Debian 5.006-3)"), 5);
        assert_eq!(version_major("Verilator 4.038 2020-07-11"), 4);
        assert_eq!(version_major("verilator"), 0);
        assert_eq!(version_major(""), 0);
    }
}
