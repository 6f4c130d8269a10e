//! A failing co-simulation leaves a VCD of the failing window at the path its
//! failure message names. Proven with a deliberately wrong golden on one row
//! (stream) and one input (fixed-latency unit): the panic names the file, the
//! file exists and holds the module's ports over the failing cycles.

use rand::rngs::StdRng;
use rand::{SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use verif::cosim::TRACE_COMPILED;
use verif::fail_vcd::fail_path;
use verif::manifest;
use verif::stream::Traffic;
use verif::tb::hccs::{cases, Engine};
use verif::unit::FixedLatencyUnit;

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the run must fail");
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

/// (from, to, path) of "VCD of cycles FROM..TO (...): PATH" in a failure message.
fn named_vcd(msg: &str) -> (u64, u64, PathBuf) {
    let line = msg.lines().find(|l| l.contains("VCD of cycles")).unwrap_or_else(|| panic!("no VCD named in:\n{msg}"));
    let cycles = line.split("VCD of cycles ").nth(1).unwrap().split(' ').next().unwrap();
    let (from, to) = cycles.split_once("..").unwrap();
    let path = line.rsplit(": ").next().unwrap();
    (from.parse().unwrap(), to.parse().unwrap(), PathBuf::from(path))
}

/// The VCD identifier of a top-level port (the first `$var` of that name).
fn var_id<'a>(vcd: &'a str, port: &str) -> &'a str {
    vcd.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|t| t.first() == Some(&"$var") && t.get(4) == Some(&port))
        .and_then(|t| t.get(3).copied())
        .unwrap_or_else(|| panic!("no $var {port} in the VCD"))
}

#[test]
fn a_wrong_row_leaves_a_vcd_of_its_window() {
    if !TRACE_COMPILED {
        eprintln!("verif built without the `trace` feature: skipped");
        return;
    }
    let e = Engine::from_module(&manifest::of_kind("hccs_softmax").into_iter().find(|m| m.module == "hccs_softmax").unwrap());
    let seed = 90_001;
    let expected = fail_path(&e.module, seed);
    let _ = std::fs::remove_file(&expected);
    let cs = cases(&e, &mut StdRng::seed_from_u64(1), 30);
    let bad_row = 17;
    let msg = panic_message(|| {
        e.stream_test(seed).run(&e.rows_in(&cs), Traffic { s_valid_prob: 0.8, m_ready_prob: 0.5 }, |i, o| {
            if i == bad_row {
                Err("deliberately wrong golden".into())
            } else {
                e.check(&cs[i], o)
            }
        });
    });
    eprintln!("the failure message:\n{msg}");
    assert!(msg.contains(&format!("row {bad_row}: deliberately wrong golden")), "{msg}");
    let (from, to, path) = named_vcd(&msg);
    assert_eq!(path, expected, "the VCD is at the documented path");
    let vcd = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for port in ["clk", "s_valid", "s_ready", "s_data", "s_last", "m_valid", "m_ready", "m_data", "m_last", "m_err"] {
        assert!(vcd.contains(&format!(" {port} ")), "the VCD lacks port {port}");
    }
    // Dumped from the window's first cycle to its last, and the failing row's
    // last beat (m_last high) is in it.
    assert!(vcd.contains(&format!("\n#{}\n", 10 * from)), "no dump at the window's start");
    assert!(vcd.contains(&format!("\n#{}\n", 10 * (to - 1) + 5)), "no dump at the window's end");
    assert!(!vcd.contains(&format!("\n#{}\n", 10 * to + 5)), "dumped past the window");
    assert!(vcd.contains(&format!("\n1{}\n", var_id(&vcd, "m_last"))), "m_last never high in the window");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_wrong_unit_output_leaves_a_vcd_of_its_window() {
    if !TRACE_COMPILED {
        eprintln!("verif built without the `trace` feature: skipped");
        return;
    }
    let m = manifest::of_kind("hif8_exp2").into_iter().find(|m| m.module == "hif8_exp2").unwrap();
    let seed = 90_002;
    let expected = fail_path(&m.module, seed);
    let _ = std::fs::remove_file(&expected);
    let inputs: Vec<u8> = (0..=255).collect();
    let msg = panic_message(|| {
        let unit = FixedLatencyUnit::new(&m.module, m.latency, seed);
        let px = unit.model.port("in_x");
        unit.run_checked(
            &inputs,
            0.3,
            7,
            |md, &x| md.set(px, x as u64),
            |md, r| md.set(px, (r.next_u32() & 0xff) as u64),
            |i, _| if i == 100 { Err("deliberately wrong golden".into()) } else { Ok(()) },
        );
    });
    assert!(msg.contains("input #100: deliberately wrong golden"), "{msg}");
    let (from, to, path) = named_vcd(&msg);
    assert_eq!(path, expected);
    assert!(to - from <= m.latency as u64 + 2 + verif::fail_vcd::BEFORE + verif::fail_vcd::AFTER, "a short window");
    let vcd = std::fs::read_to_string(&path).unwrap();
    for port in ["in_valid", "in_x", "in_shift", "out_valid", "out_y"] {
        assert!(vcd.contains(&format!(" {port} ")), "the VCD lacks port {port}");
    }
    // Input #100 (x = 100 = 0x64) is applied inside the window.
    assert!(vcd.contains(&format!("\nb01100100 {}\n", var_id(&vcd, "in_x"))), "x = 100 never applied in the window");
    let _ = std::fs::remove_file(&path);
}
