//! Bench of the HCCS engines (`hccs_softmax`, and `hccs_softmax_heads` with
//! per-head constants baked in) and of the exp-table baseline (`lut_softmax`):
//! random and directed int8 rows with random constants, checked bit-exact
//! (every output and the error flag) against `golden::hccs` /
//! `golden::lut_softmax`.

use crate::golden::hccs::{hccs_row, HccsConfig, HccsOut, HccsParams};
use crate::golden::lut_softmax::lut_softmax_row;
use crate::manifest::ModuleInfo;
use crate::stream::{Handshake, RowIn, RowOut, Stats, StreamTest, FULL_SPEED};
use rand::rngs::StdRng;
use rand::Rng;
use std::collections::HashMap;

pub struct Engine {
    pub module: String,
    pub cfg: HccsConfig,
    pub lanes: usize,
    /// The exp-table baseline's scale, None for HCCS.
    pub lut_scale: Option<f64>,
    /// Constants baked in by head index (kind `hccs_softmax_heads`): rows
    /// carry a head index on `s_head` instead of B, S, Dmax.
    pub heads: Option<Vec<HccsParams>>,
}

/// One row: logits, the constants it is computed with and, for an engine
/// with baked constants, the head index that selects them.
#[derive(Clone, Debug)]
pub struct Case {
    pub x: Vec<i8>,
    pub p: HccsParams,
    pub head: Option<u64>,
    /// The row ends with an extra beat whose keep is all zero (n = 0: a zero-length row).
    pub empty_last: bool,
}

impl Case {
    pub fn new(x: Vec<i8>, p: HccsParams) -> Case {
        Case { x, p, head: None, empty_last: false }
    }
}

/// A per-head calibration (`verif` binary `calibrate`, e.g. params/hccs_minilm.json):
/// per (layer, head) the int8 quantisation scale and the constants.
pub struct Calibration {
    pub per_layer: u64,
    pub heads: HashMap<(u64, u64), (f64, HccsParams)>,
}

impl Calibration {
    pub fn load(file: &str) -> Calibration {
        let path = format!("{}/../params/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let per_head = v["per_head"].as_array().unwrap_or_else(|| panic!("{path}: no per_head"));
        let mut heads = HashMap::new();
        for h in per_head {
            let g = |k: &str| h[k].as_u64().unwrap_or_else(|| panic!("{path}: per_head entry without {k}"));
            let p = HccsParams { b: g("b") as u16, s: g("s") as u8, dmax: g("dmax") as u8 };
            heads.insert((g("layer"), g("head")), (h["scale"].as_f64().expect("scale"), p));
        }
        let per_layer = heads.keys().map(|k| k.1).max().expect("heads") + 1;
        Calibration { per_layer, heads }
    }

    pub fn minilm() -> Calibration {
        Calibration::load("hccs_minilm.json")
    }

    /// The head index of (layer, head), as the engine's `s_head` takes it.
    pub fn index(&self, layer: u64, head: u64) -> u64 {
        layer * self.per_layer + head
    }

    /// Constants by head index, as rtl-gen bakes them.
    pub fn table(&self) -> Vec<HccsParams> {
        let layers = self.heads.keys().map(|k| k.0).max().expect("heads") + 1;
        let mut t = vec![None; (layers * self.per_layer) as usize];
        for (&(l, h), &(_, p)) in &self.heads {
            t[self.index(l, h) as usize] = Some(p);
        }
        t.into_iter().map(|p| p.expect("every head index calibrated")).collect()
    }
}

impl Engine {
    pub fn from_module(m: &ModuleInfo) -> Engine {
        let (cfg, head_table) = m.params.as_hccs().unwrap_or_else(|| panic!("{}: a {} is not an HCCS engine", m.module, m.params.kind()));
        let heads = head_table.map(|ht| {
            let t = Calibration::load(&ht.source).table();
            assert_eq!(t.len(), ht.heads, "{}: head table size", m.module);
            t
        });
        Engine { cfg: HccsConfig::from(cfg), lanes: cfg.lanes as usize, lut_scale: cfg.lut_scale(), heads, module: m.module.clone() }
    }

    /// The per-row ports taken with a row's first beat.
    pub fn side(&self) -> &'static [&'static str] {
        if self.heads.is_some() {
            &["s_head"]
        } else {
            &["s_b", "s_s", "s_dmax"]
        }
    }

    /// The constants of head index `head` (a head past the table has none: 0, 0, 0).
    pub fn head_params(&self, head: u64) -> HccsParams {
        let t = self.heads.as_ref().expect("an engine with a head table");
        t.get(head as usize).copied().unwrap_or(HccsParams { b: 0, s: 0, dmax: 0 })
    }

    pub fn golden(&self, c: &Case) -> HccsOut {
        if c.x.is_empty() {
            // A zero-length row (one beat, keep 0): nothing to normalise, flagged.
            return HccsOut { p: vec![], err: true };
        }
        match self.lut_scale {
            None => hccs_row(&c.x, &c.p, &self.cfg),
            Some(scale) => lut_softmax_row(&c.x, scale, &self.cfg),
        }
    }

    /// Every output and the error flag of one row against the golden model.
    pub fn check(&self, c: &Case, o: &RowOut) -> Result<(), String> {
        let want = self.golden(c);
        let got: Vec<u32> = o.elems.iter().map(|&v| v as u32).collect();
        if got == want.p && o.err == want.err {
            return Ok(());
        }
        let first = got.iter().zip(&want.p).position(|(a, b)| a != b);
        Err(format!(
            "n = {}, B = {}, S = {}, Dmax = {}, head {:?}: err expected {} got {}; first differing element {:?}\n  x    = {:?}\n  want = {:?}\n  got  = {:?}",
            c.x.len(),
            c.p.b,
            c.p.s,
            c.p.dmax,
            c.head,
            want.err,
            o.err,
            first.map(|j| (j, c.x[j], want.p[j], got[j])),
            c.x,
            want.p,
            got
        ))
    }

    /// The stream rows of the cases: int8 logits, constants (or head index) with the first beat.
    pub fn rows_in(&self, cases: &[Case]) -> Vec<RowIn> {
        cases
            .iter()
            .map(|c| RowIn {
                elems: c.x.iter().map(|&v| v as u8 as u64).collect(),
                side: match c.head {
                    Some(h) => vec![("s_head", h)],
                    None => vec![("s_b", c.p.b as u64), ("s_s", c.p.s as u64), ("s_dmax", c.p.dmax as u64)],
                },
                empty_last_beat: c.empty_last,
            })
            .collect()
    }

    /// A run from power-up with `seed`, every row checked bit-exact (a VCD of
    /// the first failing row's window on failure).
    pub fn run(&self, cases: &[Case], traffic: impl Handshake, seed: u64) -> Stats {
        self.stream_test(seed).run(&self.rows_in(cases), traffic, |i, o| self.check(&cases[i], o))
    }

    /// A run of this engine from power-up with `seed`: int8 in, OUT_BITS out, its sideband.
    pub fn stream_test(&self, seed: u64) -> StreamTest<'_> {
        StreamTest { module: &self.module, lanes: self.lanes, in_w: 8, out_w: self.cfg.out_bits, side: self.side(), seed }
    }

    /// Sustained throughput: `rows` back-to-back rows of `beats` x LANES elements
    /// (at most MAX_LEN) at full speed, each checked bit-exact. Returns the row
    /// length and elements per cycle per lane (limit 1.0).
    pub fn throughput(&self, beats: usize, rows: usize, rng: &mut StdRng) -> (usize, f64) {
        let n = (beats * self.lanes).min(self.cfg.max_len);
        // Constants that flag no row; an engine with a head table takes head 0.
        let p = HccsParams { b: 20000, s: 100, dmax: 100 };
        let cs: Vec<Case> = (0..rows)
            .map(|_| {
                let x = random_row(rng, n);
                match self.heads {
                    None => Case::new(x, p),
                    Some(_) => Case { head: Some(0), ..Case::new(x, self.head_params(0)) },
                }
            })
            .collect();
        (n, self.run(&cs, FULL_SPEED, 5).per_lane_rate(rows * n, self.lanes))
    }

    /// Resets at random points, each followed by `rows` checked cases (see
    /// [`StreamTest::reset_rounds`]).
    pub fn reset_rounds(&self, rounds: usize, rows: usize, seed: u64) {
        self.stream_test(seed).reset_rounds(
            rounds,
            200,
            0.1,
            |rng| {
                let cs = cases(self, rng, rows);
                (self.rows_in(&cs), cs)
            },
            |cs, i, o| self.check(&cs[i], o),
        );
    }
}

/// The engines of some manifest entries (kinds hccs_softmax, hccs_softmax_heads, lut_softmax).
pub fn engines<'a>(mods: impl IntoIterator<Item = &'a ModuleInfo>) -> Vec<Engine> {
    mods.into_iter().map(Engine::from_module).collect()
}

pub fn random_params(rng: &mut StdRng) -> HccsParams {
    match rng.gen_range(0..10) {
        // Bad constants: scores can go negative, or B = 0 (Z = 0).
        0 => HccsParams { b: rng.gen_range(0..2000), s: rng.gen_range(20..=127), dmax: rng.gen_range(50..=127) },
        1 => HccsParams { b: 0, s: rng.gen_range(0..=127), dmax: rng.gen_range(0..=127) },
        _ => {
            let s = rng.gen_range(0..=127u8);
            let dmax = rng.gen_range(0..=127u8);
            let lo = (s as u16 * dmax as u16).max(1);
            let b = if lo >= 32767 { 32767 } else { rng.gen_range(lo..=32767) };
            if (b as u32) < s as u32 * dmax as u32 {
                HccsParams { b, s: 0, dmax }
            } else {
                HccsParams { b, s, dmax }
            }
        }
    }
}

pub fn random_row(rng: &mut StdRng, n: usize) -> Vec<i8> {
    match rng.gen_range(0..4) {
        0 => (0..n).map(|_| rng.gen()).collect(),
        1 => {
            let c: i8 = rng.gen();
            (0..n).map(|_| c.saturating_add(rng.gen_range(-6..=6))).collect()
        }
        2 => vec![rng.gen(); n], // all equal
        _ => (0..n).map(|_| if rng.gen_bool(0.1) { 127 } else { rng.gen_range(-128..-100) }).collect(),
    }
}

/// Directed rows (one element, one beat, every length around a beat end, the
/// longest row, rows just too long, zero-length rows and rows closed by an
/// empty beat (the longest too), extreme constants), then `random` random rows. For an engine
/// with a head table, each row takes a random head index instead (a few past
/// the table: no constants, flagged).
pub fn cases(e: &Engine, rng: &mut StdRng, random: usize) -> Vec<Case> {
    let max = e.cfg.max_len;
    let mut v = Vec::new();
    let p = |rng: &mut StdRng| random_params(rng);
    for n in [1, e.lanes, e.lanes + 1, 2 * e.lanes - 1, max - 1, max, max + 1, max + e.lanes + 3] {
        if n >= 1 {
            let x = random_row(rng, n);
            v.push(Case::new(x, p(rng)));
        }
    }
    for n in [0, e.lanes, 2 * e.lanes, max] {
        v.push(Case { x: random_row(rng, n), p: HccsParams { b: 1000, s: 10, dmax: 50 }, head: None, empty_last: true });
    }
    v.push(Case::new(vec![127, -128], HccsParams { b: 32767, s: 127, dmax: 127 }));
    v.push(Case::new(vec![-128; max], HccsParams { b: 32767, s: 0, dmax: 0 }));
    v.push(Case::new(vec![0, 0, 0], HccsParams { b: 0, s: 0, dmax: 0 }));
    for _ in 0..random {
        let n = if rng.gen_bool(0.2) { rng.gen_range(1..=4 * e.lanes) } else { rng.gen_range(1..=max) };
        v.push(Case::new(random_row(rng, n), p(rng)));
    }
    if let Some(t) = &e.heads {
        for c in &mut v {
            let h = if rng.gen_bool(0.05) { rng.gen_range(t.len() as u64..=255) } else { rng.gen_range(0..t.len() as u64) };
            c.head = Some(h);
            c.p = e.head_params(h);
        }
    }
    v
}
