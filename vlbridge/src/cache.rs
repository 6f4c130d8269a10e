//! The object cache: compiled objects keyed by a hash of everything that goes
//! into them, so that re-running after `make rtl` recompiles only the modules
//! whose Verilog changed, and the Verilator runtime is compiled once per target
//! dir, not once per profile.
//!
//! Keys ([`base_key`], [`runtime_key`], [`module_key`]) hash the shim ABI
//! version, the Verilator version and root, the compiler (path, version, flags),
//! `vlshim.h` and the trace setting; the runtime adds its sources, a module its
//! Verilog text, name, file, Verilator flags and ports. The hash is a
//! length-prefixed 64-bit FNV-1a: good enough for cache keys, not for anything
//! adversarial.
//!
//! An entry is a directory `<root>/<group>-<16 hex digit key>` (group `runtime`
//! or `mod_<module>`) holding Verilator's output in `vl/`, the objects in `obj/`
//! and, once complete, a `DONE` file listing the objects; `USED` is touched on
//! every use. [`prune`] keeps, per group, the entries in use plus the two most
//! recently used others (switching back and forth between two RTL versions
//! stays cheap). Concurrent builds sharing a cache serialise on `<root>/lock`.
//!
//! The root is `<target>/verif-vl-cache` (next to the profile dirs);
//! `VERIF_VL_CACHE=<dir>` moves it, `VERIF_VL_CACHE=off` (or `0`) keeps it
//! inside OUT_DIR ([`cache_root`]).

use crate::manifest::ModSpec;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bump to invalidate every cache entry (e.g. when the generated shim changes shape).
pub const SHIM_ABI: &str = "vlshim-abi-3";

/// FNV-1a, 64 bit, over length-prefixed items (for cache keys only).
#[derive(Clone, Copy, Debug)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

impl Fnv {
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        // length-prefixed so that ("ab","c") != ("a","bc")
        for x in (b.len() as u64).to_le_bytes().iter().chain(b) {
            self.0 ^= *x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// What every object depends on: the tools and the shim header.
#[derive(Clone, Debug)]
pub struct Toolchain<'a> {
    /// `verilator --version`.
    pub verilator_version: &'a str,
    pub verilator_root: &'a Path,
    /// `<compiler> --version` output ("" if it could not be run).
    pub cc_version: &'a str,
    pub compiler_path: &'a Path,
    /// The compiler's arguments as `cc` runs it (flags, defines, include dirs).
    pub compiler_args: &'a [String],
    /// Contents of cpp/vlshim.h.
    pub shim_h: &'a [u8],
    pub trace: bool,
}

/// The hash state every key starts from.
pub fn base_key(t: &Toolchain) -> u64 {
    let mut ck = Fnv::new();
    ck.str(SHIM_ABI)
        .str(t.verilator_version)
        .str(&t.verilator_root.display().to_string())
        .str(t.cc_version);
    ck.str(&t.compiler_path.display().to_string());
    for a in t.compiler_args {
        ck.str(a);
    }
    ck.bytes(t.shim_h)
        .str(if t.trace { "trace" } else { "notrace" });
    ck.0
}

/// Key of the runtime entry: `files` are its sources (path, contents), in
/// compile order; `shim_common` is cpp/vlshim_common.cpp (also among them).
pub fn runtime_key(base: u64, shim_common: &[u8], files: &[(PathBuf, Vec<u8>)]) -> String {
    let mut rk = Fnv(base);
    rk.str("runtime").bytes(shim_common);
    for (f, text) in files {
        rk.str(&f.display().to_string());
        rk.bytes(text);
    }
    rk.hex()
}

/// Key of the entry of module `m`.
pub fn module_key(base: u64, m: &ModSpec, trace: bool) -> String {
    let mut k = Fnv(base);
    k.str("module").str(&m.module).str(&m.file).bytes(&m.source);
    // Verilator flags minus the paths (which do not change the output)
    for a in crate::verilator::args(m, Path::new("-"), Path::new("-"), trace) {
        k.str(&a);
    }
    for p in &m.ports {
        k.str(&p.name).str(&format!("{:?}{}", p.dir, p.width));
    }
    k.hex()
}

/// The cache directory for OUT_DIR = `<target>/<profile>/build/<pkg>-<hash>/out`
/// and the value of `VERIF_VL_CACHE` (`env`): `<target>/verif-vl-cache` by
/// default, `<out_dir>/vlcache` for "off" or "0" (or an OUT_DIR of another shape),
/// else the directory it names.
pub fn cache_root(out_dir: &Path, env: Option<&OsStr>) -> PathBuf {
    match env {
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

/// Creates `root` and takes its lock (held until the returned file is dropped).
pub fn lock(root: &Path) -> Result<fs::File, String> {
    fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let path = root.join("lock");
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.lock()
        .map_err(|e| format!("lock {}: {e}", root.display()))?;
    Ok(f)
}

/// One cache entry: a directory `<root>/<group>-<key>` holding `obj/*.o` and,
/// once complete, a `DONE` file listing them.
#[derive(Debug)]
pub struct Entry {
    pub group: String,
    pub dir: PathBuf,
    /// Some(objects) if already complete.
    pub hit: Option<Vec<PathBuf>>,
}

/// The entry `<root>/<group>-<key>`: a hit if it is complete (marked as used),
/// else emptied, with an empty `obj/`, ready to be filled.
pub fn open_entry(root: &Path, group: &str, key: &str) -> Result<Entry, String> {
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
            return Ok(Entry {
                group: group.into(),
                dir,
                hit: Some(objs),
            });
        }
    }
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("obj")).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(Entry {
        group: group.into(),
        dir,
        hit: None,
    })
}

/// Moves compiled objects into the entry (as `obj/<k>-<name>`, in order) and
/// marks it complete. Returns their new paths.
pub fn finish_entry(e: &Entry, objs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut names = String::new();
    let mut out = Vec::new();
    for (k, o) in objs.iter().enumerate() {
        let name = format!("{k:03}-{}", o.file_name().unwrap().to_string_lossy());
        let dst = e.dir.join("obj").join(&name);
        if fs::rename(o, &dst).is_err() {
            fs::copy(o, &dst)
                .map_err(|err| format!("copy {} -> {}: {err}", o.display(), dst.display()))?;
        }
        names.push_str(&name);
        names.push('\n');
        out.push(dst);
    }
    let _ = fs::write(e.dir.join("USED"), b"");
    fs::write(e.dir.join("DONE"), names).map_err(|err| format!("{}: {err}", e.dir.display()))?;
    Ok(out)
}

/// Keeps, per group, the entries in use now plus the two most recently used others.
/// Groups with no entry in use (e.g. a module no longer in the manifest) and
/// anything not named `<group>-<16 characters>` are left alone.
pub fn prune(root: &Path, in_use: &[&Entry]) {
    let Ok(rd) = fs::read_dir(root) else { return };
    let mut by_group: BTreeMap<String, Vec<(SystemTime, PathBuf)>> = BTreeMap::new();
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
            .unwrap_or(SystemTime::UNIX_EPOCH);
        by_group.entry(group.to_string()).or_default().push((t, p));
    }
    for (_, mut v) in by_group {
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (_, p) in v.into_iter().skip(2) {
            let _ = fs::remove_dir_all(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::{port, spec};
    use crate::manifest::Dir::*;
    use std::time::Duration;

    /// A fresh directory under the system temp dir, removed on drop (unique per
    /// test and process, so tests can run in parallel).
    struct TempDir(PathBuf);
    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let d = std::env::temp_dir().join(format!(
                "vlbridge-test-{}-{tag}-{}",
                std::process::id(),
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            let _ = fs::remove_dir_all(&d);
            fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn fnv_is_length_prefixed_and_stable() {
        let h = |parts: &[&str]| {
            let mut f = Fnv::new();
            for p in parts {
                f.str(p);
            }
            f.hex()
        };
        assert_ne!(h(&["ab", "c"]), h(&["a", "bc"]));
        assert_ne!(h(&[""]), h(&[]));
        assert_eq!(h(&[]), "cbf29ce484222325");
        assert_eq!(h(&["a"]).len(), 16);
        // Pinned: changing the hash changes every key (harmless, every entry is
        // rebuilt once), so it should only happen on purpose.
        assert_eq!(h(&["vlshim", "abi"]), h(&["vlshim", "abi"]));
        assert_eq!(h(&["vlshim"]), "b447d5f6541b0654");
    }

    /// Keys as the build.rs before the split into this crate computed them
    /// (same caches stay valid across the refactor).
    #[test]
    fn keys_unchanged() {
        let args = ["-O2".to_string(), "-I/x".into()];
        let base = base_key(&Toolchain {
            verilator_version: "Verilator 5.006",
            verilator_root: Path::new("/usr/share/verilator"),
            cc_version: "c++ 12",
            compiler_path: Path::new("c++"),
            compiler_args: &args,
            shim_h: b"#pragma once\n",
            trace: true,
        });
        assert_eq!(base, 976669451011708560);
        let m = crate::manifest::tests::mix();
        assert_eq!(module_key(base, &m, true), "c5bb2269f387afd6");
        let files = [
            (PathBuf::from("/a.cpp"), b"int a;".to_vec()),
            (PathBuf::from("/b.cpp"), b"int b;".to_vec()),
        ];
        assert_eq!(runtime_key(base, b"common", &files), "e9cd22ad4c6caa6c");
    }

    fn toolchain_variants() -> Vec<u64> {
        let args = vec!["-O2".to_string(), "-I/usr/share/verilator/include".into()];
        let args2 = vec!["-O3".to_string(), "-I/usr/share/verilator/include".into()];
        let t = Toolchain {
            verilator_version: "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)",
            verilator_root: Path::new("/usr/share/verilator"),
            cc_version: "c++ (Debian 12.2.0-14) 12.2.0",
            compiler_path: Path::new("c++"),
            compiler_args: &args,
            shim_h: b"#pragma once\n",
            trace: true,
        };
        vec![
            base_key(&t),
            base_key(&Toolchain {
                verilator_version: "Verilator 5.048",
                ..t.clone()
            }),
            base_key(&Toolchain {
                verilator_root: Path::new("/opt/vl"),
                ..t.clone()
            }),
            base_key(&Toolchain {
                cc_version: "clang 16",
                ..t.clone()
            }),
            base_key(&Toolchain {
                compiler_path: Path::new("g++"),
                ..t.clone()
            }),
            base_key(&Toolchain {
                compiler_args: &args2,
                ..t.clone()
            }),
            base_key(&Toolchain {
                compiler_args: &args[..1],
                ..t.clone()
            }),
            base_key(&Toolchain {
                shim_h: b"#pragma once\n\n",
                ..t.clone()
            }),
            base_key(&Toolchain {
                trace: false,
                ..t.clone()
            }),
        ]
    }

    fn all_distinct(keys: &[String]) {
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "keys {i} and {j} collide");
            }
        }
    }

    #[test]
    fn base_key_depends_on_every_input() {
        let a = toolchain_variants();
        assert_eq!(a, toolchain_variants(), "same inputs, same keys");
        all_distinct(&a.iter().map(|k| format!("{k:016x}")).collect::<Vec<_>>());
    }

    #[test]
    fn module_key_depends_on_every_input() {
        let m = spec(
            "m",
            vec![port("clk", Input, 1), port("x", Input, 8), port("y", Output, 8)],
        );
        let base = toolchain_variants()[0];
        let key = |m: &ModSpec| module_key(base, m, true);
        assert_eq!(key(&m), key(&m.clone()));
        assert_eq!(key(&m).len(), 16);

        let mut variants = vec![key(&m), module_key(base + 1, &m, true), module_key(base, &m, false)];
        let mut push = |f: &dyn Fn(&mut ModSpec)| {
            let mut v = m.clone();
            f(&mut v);
            variants.push(key(&v));
        };
        push(&|v| v.module = "n".into());
        push(&|v| v.file = "other.v".into());
        push(&|v| v.source.push(b' '));
        push(&|v| v.ports[1].name = "x2".into());
        push(&|v| v.ports[1].width = 9);
        push(&|v| v.ports[2].dir = Input);
        push(&|v| v.ports.swap(1, 2));
        push(&|v| {
            v.ports.pop();
        });
        all_distinct(&variants);

        // what is not compiled into the model does not change the key
        let mut v = m.clone();
        v.kind = "other".into();
        v.latency = None;
        v.params_json = "{\"x\":1}".into();
        v.dir = PathBuf::from("/elsewhere");
        assert_eq!(key(&v), key(&m));
    }

    #[test]
    fn runtime_key_depends_on_every_input() {
        let files = vec![
            (PathBuf::from("/vl/include/verilated.cpp"), b"int a;".to_vec()),
            (PathBuf::from("/cpp/vlshim_common.cpp"), b"int b;".to_vec()),
        ];
        let k = |base: u64, common: &[u8], files: &[(PathBuf, Vec<u8>)]| {
            runtime_key(base, common, files)
        };
        let a = k(1, b"common", &files);
        assert_eq!(a, k(1, b"common", &files.clone()));
        let mut renamed = files.clone();
        renamed[0].0 = PathBuf::from("/vl2/include/verilated.cpp");
        let mut edited = files.clone();
        edited[1].1.push(b'\n');
        all_distinct(&[
            a,
            k(2, b"common", &files),
            k(1, b"common2", &files),
            k(1, b"common", &files[..1]),
            k(1, b"common", &renamed),
            k(1, b"common", &edited),
            k(1, b"common", &[files[1].clone(), files[0].clone()]),
        ]);
        // and a runtime key is never a module key of the same base
        let m = spec("runtime", vec![]);
        assert_ne!(module_key(1, &m, true), k(1, b"", &[]));
    }

    #[test]
    fn cache_root_locations() {
        let out = Path::new("/w/target/release/build/verif-0123abcd/out");
        assert_eq!(cache_root(out, None), Path::new("/w/target/verif-vl-cache"));
        assert_eq!(
            cache_root(out, Some(OsStr::new(""))),
            Path::new("/w/target/verif-vl-cache")
        );
        let cross = Path::new("/w/target/x86_64-unknown-linux-gnu/debug/build/verif-1/out");
        assert_eq!(
            cache_root(cross, None),
            Path::new("/w/target/x86_64-unknown-linux-gnu/verif-vl-cache")
        );
        for off in ["off", "0"] {
            assert_eq!(
                cache_root(out, Some(OsStr::new(off))),
                out.join("vlcache")
            );
        }
        assert_eq!(
            cache_root(out, Some(OsStr::new("/tmp/c"))),
            Path::new("/tmp/c")
        );
        assert_eq!(
            cache_root(Path::new("/some/out"), None),
            Path::new("/some/out/vlcache")
        );
    }

    #[test]
    fn entry_miss_finish_hit() {
        let t = TempDir::new("entry");
        let root = &t.0;
        let e = open_entry(root, "mod_a", "0123456789abcdef").unwrap();
        assert!(e.hit.is_none());
        assert_eq!(e.dir, root.join("mod_a-0123456789abcdef"));
        assert!(e.dir.join("obj").is_dir());

        // objects compiled elsewhere are moved in, in order
        let scratch = root.join("scratch");
        fs::create_dir_all(&scratch).unwrap();
        let objs: Vec<PathBuf> = ["x.o", "y.o"]
            .iter()
            .map(|n| {
                let p = scratch.join(n);
                fs::write(&p, n.as_bytes()).unwrap();
                p
            })
            .collect();
        let moved = finish_entry(&e, &objs).unwrap();
        assert_eq!(
            moved,
            vec![e.dir.join("obj/000-x.o"), e.dir.join("obj/001-y.o")]
        );
        assert!(!objs[0].exists());
        assert_eq!(
            fs::read_to_string(e.dir.join("DONE")).unwrap(),
            "000-x.o\n001-y.o\n"
        );
        assert!(e.dir.join("USED").is_file());

        let h = open_entry(root, "mod_a", "0123456789abcdef").unwrap();
        assert_eq!(h.hit.as_deref(), Some(&moved[..]));
        assert_eq!(fs::read(&moved[1]).unwrap(), b"y.o");

        // an incomplete entry (object gone) is a miss, and emptied
        fs::remove_file(&moved[0]).unwrap();
        fs::write(e.dir.join("junk"), b"").unwrap();
        let m = open_entry(root, "mod_a", "0123456789abcdef").unwrap();
        assert!(m.hit.is_none());
        assert!(!e.dir.join("DONE").exists() && !e.dir.join("junk").exists());
        assert!(e.dir.join("obj").is_dir());

        // so is an entry whose DONE lists nothing
        fs::write(e.dir.join("DONE"), "\n").unwrap();
        assert!(open_entry(root, "mod_a", "0123456789abcdef")
            .unwrap()
            .hit
            .is_none());
    }

    #[test]
    fn prune_keeps_in_use_and_two_most_recent_per_group() {
        let t = TempDir::new("prune");
        let root = &t.0;
        let t0 = SystemTime::now() - Duration::from_secs(1000);
        // an entry dir with USED at t0 + age seconds (None: no USED file)
        let mk = |name: &str, age: Option<u64>| {
            let d = root.join(name);
            fs::create_dir_all(d.join("obj")).unwrap();
            if let Some(s) = age {
                let f = fs::File::create(d.join("USED")).unwrap();
                f.set_modified(t0 + Duration::from_secs(s)).unwrap();
            }
            d
        };
        let key = |k: u8| format!("{:016x}", k);
        let a_now = mk(&format!("mod_a-{}", key(0)), Some(1));
        let a = [5, 4, 3, 2].map(|s| mk(&format!("mod_a-{}", key(s as u8)), Some(s)));
        let a_unused = mk(&format!("mod_a-{}", key(9)), None);
        let rt_now = mk(&format!("runtime-{}", key(0)), Some(0));
        let rt_old = mk(&format!("runtime-{}", key(1)), Some(1));
        let b = [1, 2, 3].map(|s| mk(&format!("mod_b-{}", key(s as u8)), Some(s)));
        let odd = mk("mod_a-short", Some(0));
        let no_dash = mk("scratch", Some(0));
        fs::write(root.join("lock"), b"").unwrap();

        let in_use = [
            Entry {
                group: "mod_a".into(),
                dir: a_now.clone(),
                hit: None,
            },
            Entry {
                group: "runtime".into(),
                dir: rt_now.clone(),
                hit: None,
            },
        ];
        prune(root, &in_use.iter().collect::<Vec<_>>());

        assert!(a_now.is_dir(), "in use");
        assert!(a[0].is_dir() && a[1].is_dir(), "two most recent others");
        assert!(!a[2].exists() && !a[3].exists(), "older ones");
        assert!(!a_unused.exists(), "never marked used counts as oldest");
        assert!(rt_now.is_dir() && rt_old.is_dir());
        assert!(b.iter().all(|d| d.is_dir()), "group not in use is left alone");
        assert!(odd.is_dir() && no_dash.is_dir());
        assert!(root.join("lock").is_file());

        // a missing root is not an error
        prune(&root.join("nope"), &in_use.iter().collect::<Vec<_>>());
    }

    #[test]
    fn lock_creates_root() {
        let t = TempDir::new("lock");
        let root = t.0.join("a/b");
        let f = lock(&root).unwrap();
        assert!(root.join("lock").is_file());
        drop(f);
        let _again = lock(&root).unwrap();
    }
}
