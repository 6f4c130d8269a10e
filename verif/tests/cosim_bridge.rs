//! Generic checks of the Verilator co-simulation bridge on whatever modules the
//! manifest lists: every module builds and constructs, the port table matches
//! the manifest, port values read back at every width, models are independent
//! across threads and reproducible per seed, VCD tracing works, and the
//! throughput (cycles/s) of the first module is printed.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use verif::cosim::{Dir, Model, Port, MODELS, RTL_GEN_DIR, TRACE_COMPILED};

/// The modules of the manifests the models were built from: the generated
/// set, then the parameter sweep's if verif was built with one.
fn manifest_modules() -> Vec<serde_json::Value> {
    let read = |dir: &std::path::Path| -> Vec<serde_json::Value> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["modules"].as_array().expect("modules").clone()
    };
    let mut mods = read(std::path::Path::new(RTL_GEN_DIR));
    if let Some(d) = verif::manifest::sweep_dir() {
        mods.extend(read(&d));
    }
    mods
}

fn is_clock_or_reset(m: &Model, p: Port) -> bool {
    let i = m.info();
    i.clock == Some(p.index() as u32) || i.reset.map(|r| r.0) == Some(p.index() as u32)
}

/// xorshift64*: cheap deterministic stimulus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A random value of `width` bits as 32-bit words.
    fn words(&mut self, width: u32) -> Vec<u32> {
        let n = width.div_ceil(32) as usize;
        let mut w: Vec<u32> = (0..n).map(|_| self.next() as u32).collect();
        if !width.is_multiple_of(32) {
            w[n - 1] &= (1u32 << (width % 32)) - 1;
        }
        w
    }
}

#[test]
fn every_manifest_module_is_built_with_matching_ports() {
    let mods = manifest_modules();
    let names: Vec<&str> = mods.iter().map(|m| m["module"].as_str().unwrap()).collect();
    assert_eq!(
        Model::modules(),
        names,
        "models built != modules in {RTL_GEN_DIR}/manifest.json (+ the sweep's)"
    );
    for jm in &mods {
        let name = jm["module"].as_str().unwrap();
        let model = Model::new(name);
        let info = model.info();
        assert_eq!(info.file, jm["file"].as_str().unwrap());
        assert_eq!(info.latency, jm["latency"].as_u64());
        let jports = jm["ports"].as_array().unwrap();
        assert_eq!(info.ports.len(), jports.len(), "{name}: port count");
        for (k, jp) in jports.iter().enumerate() {
            let pname = jp["name"].as_str().unwrap();
            let p = model.port(pname);
            assert_eq!(p.index(), k);
            assert_eq!(
                p.width() as u64,
                jp["width"].as_u64().unwrap(),
                "{name}.{pname}: width"
            );
            let dir = if jp["dir"] == "input" {
                Dir::Input
            } else {
                Dir::Output
            };
            assert_eq!(p.dir(), dir, "{name}.{pname}: dir");
            assert_eq!(p.words(), (p.width() as usize).div_ceil(32));
        }
        assert!(model.try_port("no_such_port").is_none());
        assert_eq!(model.cycles(), 0);
    }
}

#[test]
fn inputs_read_back_at_every_width() {
    let mut rng = Rng(0x1234_5678);
    for &name in &Model::modules() {
        let mut m = Model::with_seed(name, 3);
        let inputs: Vec<Port> = m
            .info()
            .ports
            .iter()
            .map(|p| m.port(p.name))
            .filter(|p| p.dir() == Dir::Input)
            .collect();
        for _ in 0..50 {
            for &p in &inputs {
                let w = rng.words(p.width());
                m.set_wide(p, &w);
                assert_eq!(
                    m.get_words(p),
                    w,
                    "{name}: input {} read back (words)",
                    p.index()
                );
                if p.width() <= 64 {
                    let v = w.iter().rev().fold(0u64, |a, &x| (a << 32) | x as u64);
                    assert_eq!(m.get(p), v);
                    m.set(p, v);
                    assert_eq!(m.get(p), v);
                }
            }
            m.eval();
            // outputs are readable at every width, and never wider than the port
            for p in m.info().ports.iter().filter(|p| p.dir == Dir::Output) {
                let port = m.port(p.name);
                let w = m.get_words(port);
                if !p.width.is_multiple_of(32) {
                    assert_eq!(
                        w[w.len() - 1] >> (p.width % 32),
                        0,
                        "{name}.{}: bits beyond the width",
                        p.name
                    );
                }
            }
        }
    }
}

/// Hash of every output after every cycle of a random stimulus (inputs other
/// than clock and reset random each cycle, after a reset).
fn run_trace(name: &str, seed: u64, stim_seed: u64, cycles: u64) -> u64 {
    let mut m = Model::with_seed(name, seed);
    let ports: Vec<Port> = m.info().ports.iter().map(|p| m.port(p.name)).collect();
    let (ins, outs): (Vec<Port>, Vec<Port>) = ports.iter().partition(|p| p.dir() == Dir::Input);
    let ins: Vec<Port> = ins
        .into_iter()
        .filter(|&p| !is_clock_or_reset(&m, p))
        .collect();
    let mut rng = Rng(stim_seed | 1);
    let mut h = DefaultHasher::new();
    let mut buf = vec![0u32; 32];
    if m.info().reset.is_some() {
        m.reset(3);
    }
    for _ in 0..cycles {
        for &p in &ins {
            let w = rng.words(p.width());
            m.set_wide(p, &w);
        }
        if m.info().clock.is_some() {
            m.tick();
        } else {
            m.eval();
        }
        for &p in &outs {
            m.get_wide(p, &mut buf);
            buf[..p.words()].hash(&mut h);
        }
    }
    h.finish()
}

#[test]
fn two_models_of_one_module_run_independently_in_two_threads() {
    let name = Model::modules()[0];
    let n = 20_000;
    // Concurrently: two models of the same module, different seeds and stimuli.
    let (a, b) = std::thread::scope(|s| {
        let ha = s.spawn(|| run_trace(name, 1, 11, n));
        let hb = s.spawn(|| run_trace(name, 2, 22, n));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    // Alone, one after the other: the same traces (no cross-talk, same seed ->
    // same behaviour).
    assert_eq!(
        run_trace(name, 1, 11, n),
        a,
        "{name}: model 1 disturbed by model 2"
    );
    assert_eq!(
        run_trace(name, 2, 22, n),
        b,
        "{name}: model 2 disturbed by model 1"
    );
    assert_ne!(
        a, b,
        "{name}: different stimuli gave identical output traces"
    );
}

#[test]
fn models_move_between_threads() {
    for &name in &Model::modules() {
        let mut m = Model::with_seed(name, 7);
        if m.info().clock.is_none() {
            continue;
        }
        m.ticks(3);
        let mut m = std::thread::spawn(move || {
            m.tick();
            m
        })
        .join()
        .unwrap();
        m.ticks(2);
        assert_eq!(m.cycles(), 6);
    }
}

#[test]
#[should_panic(expected = "available:")]
fn unknown_module_lists_the_available_ones() {
    let _ = Model::new("no_such_module");
}

#[test]
fn vcd_trace_of_a_window() {
    if !TRACE_COMPILED {
        eprintln!("verif built without the `trace` feature: skipped");
        return;
    }
    let name = Model::modules()[0];
    let mut m = Model::with_seed(name, 1);
    if m.info().clock.is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("verif-cosim-bridge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.vcd"));
    m.ticks(100);
    m.trace_to(&path).unwrap();
    assert!(m.is_tracing());
    m.ticks(4);
    m.trace_close();
    let vcd = std::fs::read_to_string(&path).unwrap();
    for p in MODELS[0].ports {
        assert!(
            vcd.contains(&format!(" {} ", p.name)),
            "{name}.vcd lacks port {}",
            p.name
        );
    }
    // cycles 100..103: inputs at 10c, rising edge at 10c+5
    for t in [1000, 1005, 1030, 1035] {
        assert!(
            vcd.contains(&format!("\n#{t}\n")),
            "{name}.vcd has no time {t}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Co-simulation speed of the first module: all inputs changed, all outputs
/// read every cycle (the pattern of a real test), 10^7 cycles.
#[test]
fn throughput_first_module() {
    let name = Model::modules()[0];
    let mut m = Model::with_seed(name, 1);
    if m.info().clock.is_none() {
        return;
    }
    let ports: Vec<Port> = m.info().ports.iter().map(|p| m.port(p.name)).collect();
    let ins: Vec<Port> = ports
        .iter()
        .copied()
        .filter(|&p| p.dir() == Dir::Input && !is_clock_or_reset(&m, p))
        .collect();
    let outs: Vec<Port> = ports
        .iter()
        .copied()
        .filter(|&p| p.dir() == Dir::Output)
        .collect();
    let narrow = ins.iter().chain(&outs).all(|p| p.width() <= 64);
    if m.info().reset.is_some() {
        m.reset(2);
    }
    let n: u64 = 10_000_000;
    let mut rng = Rng(99);
    let mut acc = 0u64;
    let mut buf = vec![0u32; 32];
    let t = std::time::Instant::now();
    for _ in 0..n {
        let r = rng.next();
        for (k, &p) in ins.iter().enumerate() {
            if narrow {
                let v = r.rotate_left(k as u32 * 13);
                m.set(
                    p,
                    if p.width() == 64 {
                        v
                    } else {
                        v & ((1u64 << p.width()) - 1)
                    },
                );
            } else {
                let w = rng.words(p.width());
                m.set_wide(p, &w);
            }
        }
        m.tick();
        for &p in &outs {
            if narrow {
                acc = acc.wrapping_add(m.get(p));
            } else {
                m.get_wide(p, &mut buf);
                acc = acc.wrapping_add(buf[0] as u64);
            }
        }
    }
    let dt = t.elapsed().as_secs_f64();
    let t2 = std::time::Instant::now();
    m.ticks(n);
    let dt2 = t2.elapsed().as_secs_f64();
    println!(
        "cosim throughput {name}: {:.1} M cycles/s with all ports driven/read ({n} cycles in {dt:.2} s), \
         {:.1} M cycles/s bare ticks (checksum {acc:x})",
        n as f64 / dt / 1e6,
        n as f64 / dt2 / 1e6
    );
    assert_eq!(
        m.cycles(),
        2 * n + if m.info().reset.is_some() { 2 } else { 0 }
    );
}
