//! The CLI on bad input: every case exits non-zero with one clear line naming
//! the problem, and writes nothing into the output folder.

use std::path::PathBuf;
use std::process::Command;

/// A fresh empty folder per case, so tests can run in parallel.
fn scratch(case: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rtl-gen-cli-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `rtl-gen args.. --out <scratch>`; returns stderr after checking the
/// exit status and that the folder holds only the files the case put there.
fn fails(case: &str, args: &[&str], setup: &[(&str, &str)]) -> String {
    let dir = scratch(case);
    for (name, text) in setup {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let mut argv: Vec<String> = args.iter().map(|a| a.replace("{dir}", dir.to_str().unwrap())).collect();
    argv.extend(["--out".to_string(), dir.to_str().unwrap().to_string()]);
    let out = Command::new(env!("CARGO_BIN_EXE_rtl-gen")).args(&argv).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{case}: rtl-gen {argv:?} succeeded");
    assert_eq!(out.status.code(), Some(if err.starts_with("error:") { 2 } else { 1 }), "{case}: exit status");
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    let mut want: Vec<String> = setup.iter().map(|s| s.0.to_string()).collect();
    want.sort();
    assert_eq!(left, want, "{case}: files written despite the error");
    std::fs::remove_dir_all(&dir).unwrap();
    err
}

#[test]
fn out_of_range_parameters_are_refused_by_name() {
    for (case, args, needle) in [
        ("lanes0", &["hccs", "--lanes", "0"][..], "LANES must be 1..16, got 0"),
        ("lanes17", &["hccs", "--lanes", "17"][..], "LANES must be 1..16, got 17"),
        ("baps_lanes0", &["baps", "--lanes", "0"][..], "LANES"),
        ("block", &["baps", "--block", "30"][..], "BLOCK must be LANES times a power of two"),
        ("block_lanes", &["baps", "--lanes", "3", "--block", "32"][..], "BLOCK = 32 LANES = 3"),
        ("maxlen_big", &["hccs", "--max-len", "100000000"][..], "MAX_LEN must be a multiple of LANES"),
        ("maxlen0", &["hccs", "--max-len", "0"][..], "MAX_LEN"),
        ("baps_maxlen", &["baps", "--max-len", "70000"][..], "MAX_LEN"),
        ("outbits", &["hccs", "--out-bits", "40"][..], "OUT_BITS must be 8 or 16, got 40"),
        ("r", &["hccs", "--r", "99"][..], "R must be 1..24, got 99"),
        ("name", &["hccs", "--name", "9x"][..], "not a Verilog identifier"),
        ("name_clash", &["exp2", "--name", "e3"][..], "module name `e3`"),
        ("stages", &["exp2", "--stages", "6"][..], "'--stages"),
        ("format", &["exp2", "--out-format", "fp8"][..], "unknown format 'fp8'"),
        ("baps_out", &["baps", "--out-format", "hif8"][..], "'--out-format"),
        ("unknown_option", &["exp2", "--bogus"][..], "unexpected argument '--bogus'"),
        ("unknown_command", &["exp3"][..], "unrecognized subcommand 'exp3'"),
    ] {
        let err = fails(case, args, &[]);
        assert!(err.contains(needle), "{case}: error should say {needle:?}, got:\n{err}");
        if !err.starts_with("error:") {
            assert_eq!(err.trim_end().lines().count(), 1, "{case}: one line, got:\n{err}");
        }
    }
}

#[test]
fn bad_calibration_json_is_refused_by_name() {
    for (case, text, needle) in [
        ("truncated", "{\"per_head\": [", "not valid JSON"),
        ("empty", "{\"per_head\": []}", "1..256 heads needed, got 0"),
        ("not_json", "B = 3\n", "not valid JSON"),
    ] {
        let err = fails(case, &["hccs", "--head-table", "{dir}/calib.json"], &[("calib.json", text)]);
        assert!(err.contains(needle), "{case}: error should say {needle:?}, got:\n{err}");
        assert!(err.contains("calib.json"), "{case}: the error names the file: {err}");
    }
    let err = fails("missing", &["hccs", "--head-table", "{dir}/nothere.json"], &[]);
    assert!(err.contains("nothere.json"), "the error names the missing file: {err}");
}
