//! Driving a streaming (AXI-Stream) module on the co-simulation: rows in on
//! `s_*`, rows out on `m_*`, with random `s_valid` gaps and `m_ready` stalls,
//! and the stream rules of spec/interfaces.md asserted every cycle:
//! valid is never dropped before ready, data is stable while stalled, `keep`
//! is contiguous from lane 0, every input row gives one output row with the
//! same beats and keep pattern, in order.
//!
//! [`StreamTest`] is the usual entry: a run from power-up whose output rows
//! are checked against a golden model, with a VCD of the failing row's window
//! on failure (see [`crate::fail_vcd`]).

use crate::cosim::{Model, Port};
use crate::fail_vcd::FailTrace;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One input row: its elements and the per-row sideband values (port name,
/// value) that the module takes with the first beat.
#[derive(Clone, Debug)]
pub struct RowIn {
    pub elems: Vec<u64>,
    pub side: Vec<(&'static str, u64)>,
    /// Extra beat after the elements with keep == 0 (a zero-length last beat).
    pub empty_last_beat: bool,
}

/// One output row as it left the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowOut {
    pub elems: Vec<u64>,
    pub err: bool,
    pub beats: usize,
    /// Model cycles (reset included) at which the row's first input beat was
    /// first offered and its last output beat was taken: the row's window.
    pub cycles: (u64, u64),
}

/// Handshake activity: the chance of `s_valid` being offered on a cycle and of
/// `m_ready` being high.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    pub s_valid_prob: f64,
    pub m_ready_prob: f64,
}

pub const FULL_SPEED: Traffic = Traffic { s_valid_prob: 1.0, m_ready_prob: 1.0 };

/// The traffic patterns the default modules' tests run every row under: full
/// speed, gaps and stalls, heavy stalls, sparse input.
pub const PATTERNS: [Traffic; 4] = [
    FULL_SPEED,
    Traffic { s_valid_prob: 0.7, m_ready_prob: 0.6 },
    Traffic { s_valid_prob: 1.0, m_ready_prob: 0.25 },
    Traffic { s_valid_prob: 0.3, m_ready_prob: 1.0 },
];

/// `run(traffic, seed)` under each of [`PATTERNS`] (seeds `seed0`, `seed0 + 1`,
/// ...), asserting that the patterns with stalls did stall. Returns the rows run.
pub fn under_every_pattern(seed0: u64, mut run: impl FnMut(Traffic, u64) -> Stats) -> u64 {
    let mut rows = 0;
    for (j, t) in PATTERNS.into_iter().enumerate() {
        let st = run(t, seed0 + j as u64);
        assert!(st.stalls > 0 || t.m_ready_prob == 1.0, "the stall pattern {} stalled", t.describe());
        rows += st.rows;
    }
    rows
}

/// Where each cycle's [`Traffic`] comes from: a constant [`Traffic`], or
/// [`Phases`] that change it over time.
pub trait Handshake: Clone {
    /// The traffic of the next cycle (called once per cycle).
    fn next(&mut self, rng: &mut impl Rng) -> Traffic;
    fn describe(&self) -> String;
}

impl Handshake for Traffic {
    fn next(&mut self, _: &mut impl Rng) -> Traffic {
        *self
    }
    fn describe(&self) -> String {
        format!("s_valid {:.2}, m_ready {:.2}", self.s_valid_prob, self.m_ready_prob)
    }
}

/// Traffic that changes every 1..2*`mean` cycles: full speed, output blocked
/// (the FIFO and row slots fill, `s_ready` must hold the input off), input
/// starved, input off, or any mix of gaps and stalls. Unlike a constant
/// probability, this gives long stall bursts and back-pressure mid-row.
#[derive(Clone, Copy, Debug)]
pub struct Phases {
    pub mean: u32,
    now: Traffic,
    left: u32,
}

impl Phases {
    pub fn new(mean: u32) -> Phases {
        Phases { mean: mean.max(1), now: FULL_SPEED, left: 0 }
    }
}

impl Handshake for Phases {
    fn next(&mut self, rng: &mut impl Rng) -> Traffic {
        if self.left == 0 {
            self.left = rng.gen_range(1..=2 * self.mean);
            self.now = match rng.gen_range(0..8) {
                0 => FULL_SPEED,
                1 => Traffic { s_valid_prob: 1.0, m_ready_prob: 0.0 },
                2 => Traffic { s_valid_prob: rng.gen_range(0.0..0.1), m_ready_prob: 1.0 },
                3 => Traffic { s_valid_prob: 0.0, m_ready_prob: rng.gen_range(0.0..=1.0) },
                _ => Traffic { s_valid_prob: rng.gen_range(0.05..=1.0), m_ready_prob: rng.gen_range(0.05..=1.0) },
            };
        }
        self.left -= 1;
        self.now
    }
    fn describe(&self) -> String {
        format!("random phases of ~{} cycles", self.mean)
    }
}

pub struct StreamHarness {
    pub model: Model,
    pub lanes: usize,
    in_w: u32,
    out_w: u32,
    s_valid: Port,
    s_ready: Port,
    s_data: Port,
    s_keep: Port,
    s_last: Port,
    m_valid: Port,
    m_ready: Port,
    m_data: Port,
    m_keep: Port,
    m_last: Port,
    m_err: Port,
    side: Vec<(&'static str, Port)>,
}

fn pack(elems: &[u64], w: u32, words: usize) -> Vec<u32> {
    let mut out = vec![0u32; words];
    for (i, &e) in elems.iter().enumerate() {
        for b in 0..w {
            if e >> b & 1 == 1 {
                let bit = i as u32 * w + b;
                out[(bit / 32) as usize] |= 1 << (bit % 32);
            }
        }
    }
    out
}

fn unpack(words: &[u32], w: u32, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| (0..w).fold(0u64, |acc, b| {
            let bit = i as u32 * w + b;
            acc | ((words[(bit / 32) as usize] >> (bit % 32) & 1) as u64) << b
        }))
        .collect()
}

/// Cycle-by-cycle record of the stream, for the summary of a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub rows: u64,
    pub cycles: u64,
    pub in_beats: u64,
    pub out_beats: u64,
    /// Cycles with an output beat valid and `m_ready` low.
    pub stalls: u64,
    /// Cycles with input beats left to send and `s_valid` low.
    pub gaps: u64,
}

impl Stats {
    /// Throughput of a run that carried `elements` elements over `lanes` lanes:
    /// elements per cycle per lane (limit 1.0).
    pub fn per_lane_rate(&self, elements: usize, lanes: usize) -> f64 {
        elements as f64 / (self.cycles as f64 * lanes as f64)
    }
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.rows += o.rows;
        self.cycles += o.cycles;
        self.in_beats += o.in_beats;
        self.out_beats += o.out_beats;
        self.stalls += o.stalls;
        self.gaps += o.gaps;
    }
}

/// Why a run stopped early.
enum Stop {
    /// A stream rule broken at model cycle `at`, while the row whose first
    /// beat was offered at cycle `first` was due out.
    Broken { msg: String, first: u64, at: u64 },
    /// The end of a re-run's trace window.
    WindowEnd,
}

/// Beats of a row on the stream (a zero-length row is one beat with keep 0).
fn beats_of(row: &RowIn, lanes: usize) -> usize {
    let n = row.elems.len();
    if row.empty_last_beat { n / lanes + 1 } else { n.div_ceil(lanes).max(1) }
}

impl StreamHarness {
    /// `in_w`/`out_w`: element widths on `s_data`/`m_data`; `side`: per-row ports.
    pub fn new(module: &str, seed: u64, in_w: u32, out_w: u32, side: &[&'static str]) -> Self {
        let mut model = Model::with_seed(module, seed);
        let p = |m: &Model, n: &str| m.port(n);
        let s_keep = p(&model, "s_keep");
        let lanes = s_keep.width() as usize;
        let h = StreamHarness {
            lanes,
            in_w,
            out_w,
            s_valid: p(&model, "s_valid"),
            s_ready: p(&model, "s_ready"),
            s_data: p(&model, "s_data"),
            s_keep,
            s_last: p(&model, "s_last"),
            m_valid: p(&model, "m_valid"),
            m_ready: p(&model, "m_ready"),
            m_data: p(&model, "m_data"),
            m_keep: p(&model, "m_keep"),
            m_last: p(&model, "m_last"),
            m_err: p(&model, "m_err"),
            side: side.iter().map(|&n| (n, model.port(n))).collect(),
            model: {
                model.set(model.port("s_valid"), 0);
                model.set(model.port("m_ready"), 0);
                model.reset(4);
                model
            },
        };
        assert_eq!(h.s_data.width() as usize, lanes * in_w as usize, "{module}: s_data width");
        assert_eq!(h.m_data.width() as usize, lanes * out_w as usize, "{module}: m_data width");
        h
    }

    /// Streams `rows` through and returns the output rows, checking the stream
    /// rules every cycle. Panics if a rule is broken or the module stops
    /// making progress.
    pub fn run(&mut self, rows: &[RowIn], mut traffic: impl Handshake, rng: &mut impl Rng, stats: &mut Stats) -> Vec<RowOut> {
        match self.run_inner(rows, &mut traffic, rng, stats, None) {
            Ok(out) => out,
            Err(Stop::Broken { msg, .. }) => panic!("{msg}"),
            Err(Stop::WindowEnd) => unreachable!("no trace window"),
        }
    }

    /// [`StreamHarness::run`], tracing `trace`'s window if given (and stopping
    /// at its end), with a broken rule returned instead of panicking.
    fn run_inner(
        &mut self,
        rows: &[RowIn],
        traffic: &mut impl Handshake,
        rng: &mut impl Rng,
        stats: &mut Stats,
        mut trace: Option<&mut FailTrace>,
    ) -> Result<Vec<RowOut>, Stop> {
        let lanes = self.lanes;
        // Input beats: (data words, keep, last, row index, first beat of row)
        let mut beats = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let n = row.elems.len();
            let nb = beats_of(row, lanes);
            for b in 0..nb {
                let lo = (b * lanes).min(n);
                let hi = ((b + 1) * lanes).min(n);
                let keep = if hi > lo { (1u64 << (hi - lo)) - 1 } else { 0 };
                beats.push((pack(&row.elems[lo..hi], self.in_w, self.s_data.words()), keep, b + 1 == nb, r, b == 0));
            }
        }
        // Model cycle at which each row's first beat was first offered.
        let mut first_in: Vec<u64> = Vec::with_capacity(rows.len());
        let mut out: Vec<RowOut> = Vec::new();
        let new_row = || RowOut { elems: Vec::new(), err: false, beats: 0, cycles: (0, 0) };
        let mut cur = new_row();
        let mut next = 0usize;
        let mut offering = false;
        let mut prev_m: Option<(Vec<u32>, u64, u64, u64)> = None; // stalled output beat
        let mut idle = 0u64;
        let full_keep = (1u64 << lanes) - 1;
        while out.len() < rows.len() {
            let now = self.model.cycles();
            if let Some(t) = trace.as_deref_mut() {
                if !t.step(&mut self.model) {
                    return Err(Stop::WindowEnd);
                }
            }
            // The row due out next: the one a broken rule is blamed on.
            let due_first = first_in.get(out.len()).copied().unwrap_or(now);
            macro_rules! rule {
                ($ok:expr, $($fmt:tt)*) => {
                    if !$ok {
                        return Err(Stop::Broken {
                            msg: format!("{} (cycle {now}, {} of {} rows out)", format!($($fmt)*), out.len(), rows.len()),
                            first: due_first,
                            at: now,
                        });
                    }
                };
            }
            let t = traffic.next(rng);
            // Input side: once offered, a beat stays offered (and unchanged) until taken.
            if !offering && next < beats.len() && rng.gen_bool(t.s_valid_prob) {
                offering = true;
                let (ref words, keep, last, r, first) = beats[next];
                if first {
                    first_in.push(now);
                }
                self.model.set_wide(self.s_data, words);
                self.model.set(self.s_keep, keep);
                self.model.set(self.s_last, last as u64);
                for (name, port) in &self.side {
                    let v = rows[r].side.iter().find(|(n, _)| n == name).expect("side value").1;
                    // Only the first beat carries the row's constants; later
                    // beats carry noise, which the module must ignore.
                    let v = if first { v } else { rng.gen::<u64>() & ((1u64 << port.width()) - 1) };
                    self.model.set(*port, v);
                }
            }
            if !offering {
                // Idle input: noise on the data lines, valid low.
                let noise: Vec<u32> = (0..self.s_data.words()).map(|_| rng.gen()).collect();
                self.model.set_wide(self.s_data, &noise);
                if next < beats.len() {
                    stats.gaps += 1;
                }
            }
            self.model.set(self.s_valid, offering as u64);
            let ready_out = rng.gen_bool(t.m_ready_prob);
            self.model.set(self.m_ready, ready_out as u64);
            self.model.eval();
            let s_fire = offering && self.model.get(self.s_ready) == 1;
            let m_valid = self.model.get(self.m_valid) == 1;
            if let Some((ref d, k, l, e)) = prev_m {
                rule!(m_valid, "m_valid dropped before m_ready");
                let now_m = (self.model.get_words(self.m_data), self.model.get(self.m_keep), self.model.get(self.m_last), self.model.get(self.m_err));
                rule!(now_m == (d.clone(), k, l, e), "m_* changed while stalled");
            }
            if m_valid {
                let keep = self.model.get(self.m_keep);
                rule!(keep & (keep + 1) == 0, "m_keep {keep:#b} not contiguous from lane 0");
                let last = self.model.get(self.m_last) == 1;
                let err = self.model.get(self.m_err) == 1;
                rule!(last || keep == full_keep, "m_keep {keep:#b} not full on a beat that is not last");
                rule!(last || !err, "m_err on a beat that is not last");
                rule!(out.len() < first_in.len(), "an output beat before its input row was offered");
                if ready_out {
                    let words = self.model.get_words(self.m_data);
                    let n = keep.count_ones() as usize;
                    cur.elems.extend(unpack(&words, self.out_w, n));
                    cur.beats += 1;
                    stats.out_beats += 1;
                    if last {
                        cur.err = err;
                        cur.cycles = (due_first, now);
                        out.push(std::mem::replace(&mut cur, new_row()));
                    }
                    prev_m = None;
                } else {
                    prev_m = Some((self.model.get_words(self.m_data), keep, last as u64, err as u64));
                    stats.stalls += 1;
                }
            }
            if s_fire {
                offering = false;
                next += 1;
                stats.in_beats += 1;
            }
            self.model.tick();
            stats.cycles += 1;
            idle = if s_fire || (m_valid && ready_out) { 0 } else { idle + 1 };
            rule!(idle < 10_000, "no progress for 10000 cycles");
        }
        assert!(next == beats.len(), "every input beat consumed");
        stats.rows += rows.len() as u64;
        // Same shape: as many beats as the input row, same element count.
        for (r, (i, o)) in rows.iter().zip(&out).enumerate() {
            let (first, at) = o.cycles;
            let broken = |msg: String| Err(Stop::Broken { msg, first, at });
            if o.beats != beats_of(i, lanes) {
                return broken(format!("row {r}: {} output beats for {} input beats", o.beats, beats_of(i, lanes)));
            }
            if o.elems.len() != i.elems.len() {
                return broken(format!("row {r}: {} output elements for {} input elements (keep pattern)", o.elems.len(), i.elems.len()));
            }
        }
        Ok(out)
    }
}

/// One run of a streaming module from power-up, the model's initial values
/// and the stimulus (gaps, stalls, noise) all drawn from `seed`.
pub struct StreamTest<'a> {
    pub module: &'a str,
    pub lanes: usize,
    /// Element widths on `s_data` / `m_data`.
    pub in_w: u32,
    pub out_w: u32,
    /// Per-row sideband ports, taken with a row's first beat.
    pub side: &'a [&'static str],
    pub seed: u64,
}

impl StreamTest<'_> {
    fn start(&self) -> (StreamHarness, StdRng) {
        let h = StreamHarness::new(self.module, self.seed, self.in_w, self.out_w, self.side);
        assert_eq!(h.lanes, self.lanes, "{}: lanes (s_keep width)", self.module);
        (h, StdRng::seed_from_u64(self.seed))
    }

    /// Streams `rows` under `traffic`, checking the stream rules every cycle
    /// and every output row with `check` (row index, row out -> what is wrong).
    /// On the first failure, re-runs the same stimulus with a VCD of the
    /// failing row's window and panics with the failure and the VCD's path.
    pub fn run<H: Handshake>(&self, rows: &[RowIn], traffic: H, mut check: impl FnMut(usize, &RowOut) -> Result<(), String>) -> Stats {
        let mut stats = Stats::default();
        let (mut h, mut rng) = self.start();
        let (msg, first, last) = match h.run_inner(rows, &mut traffic.clone(), &mut rng, &mut stats, None) {
            Ok(out) => match out.iter().enumerate().find_map(|(i, o)| check(i, o).err().map(|m| (i, m))) {
                None => return stats,
                Some((i, m)) => (format!("row {i}: {m}"), out[i].cycles.0, out[i].cycles.1),
            },
            Err(Stop::Broken { msg, first, at }) => (msg, first, at),
            Err(Stop::WindowEnd) => unreachable!("no trace window"),
        };
        drop(h);
        let mut trace = FailTrace::around(self.module, self.seed, first, last);
        let (mut h, mut rng) = self.start();
        let _ = h.run_inner(rows, &mut traffic.clone(), &mut rng, &mut Stats::default(), Some(&mut trace));
        h.model.trace_close();
        panic!("{} (seed {}, {}): {msg}\n  {}", self.module, self.seed, traffic.describe(), trace.note());
    }

    /// `rounds` times: up to `max_garbage` cycles of traffic that follows no
    /// protocol (`s_last` with chance `last_prob`), `rst`, then the rows that
    /// `batch` draws, streamed with gaps and stalls and each checked with
    /// `check`. After a reset the module must behave as from power-up: no
    /// stale row and no half row comes out.
    pub fn reset_rounds<T>(
        &self,
        rounds: usize,
        max_garbage: usize,
        last_prob: f64,
        mut batch: impl FnMut(&mut StdRng) -> (Vec<RowIn>, T),
        check: impl Fn(&T, usize, &RowOut) -> Result<(), String>,
    ) {
        let (mut h, mut rng) = self.start();
        for round in 0..rounds {
            let garbage = rng.gen_range(1..max_garbage);
            h.garbage_then_reset(garbage, last_prob, &mut rng);
            let (rows, cases) = batch(&mut rng);
            let out = h.run(&rows, Traffic { s_valid_prob: 0.8, m_ready_prob: 0.6 }, &mut rng, &mut Stats::default());
            for (i, o) in out.iter().enumerate() {
                if let Err(msg) = check(&cases, i, o) {
                    panic!("{} (seed {}) after reset {round}, row {i}: stale or wrong output: {msg}", self.module, self.seed);
                }
            }
        }
    }
}

impl StreamHarness {
    /// `cycles` cycles of random traffic that follows no protocol (random
    /// `s_valid`, `s_last`, `m_ready`, data: rows cut anywhere, in every slot),
    /// then `rst` for one cycle. Afterwards the module must behave as from
    /// power-up.
    pub fn garbage_then_reset(&mut self, cycles: usize, last_prob: f64, rng: &mut impl Rng) {
        let rst = self.model.port("rst");
        for _ in 0..cycles {
            self.model.set(self.s_valid, rng.gen_bool(0.8) as u64);
            self.model.set(self.s_last, rng.gen_bool(last_prob) as u64);
            self.model.set(self.m_ready, rng.gen_bool(0.5) as u64);
            let words: Vec<u32> = (0..self.s_data.words()).map(|_| rng.gen()).collect();
            self.model.set_wide(self.s_data, &words);
            self.model.tick();
        }
        self.model.set(self.s_valid, 0);
        self.model.set(rst, 1);
        self.model.tick();
        self.model.set(rst, 0);
    }
}

/// The manifest's latency of a streaming module: cycles from a 1-beat row's
/// beat being taken by an idle module (`side`: its per-row port values) to
/// its output beat being valid, counting the taking edge.
pub fn one_beat_latency(module: &str, side: &[(&str, u64)]) -> u64 {
    let mut md = Model::new(module);
    let p = |md: &Model, n: &str| md.port(n);
    let (sv, sl, sk, mr, mv) = (p(&md, "s_valid"), p(&md, "s_last"), p(&md, "s_keep"), p(&md, "m_ready"), p(&md, "m_valid"));
    md.set(sv, 0);
    md.set(mr, 1);
    md.reset(3);
    for &(n, v) in side {
        let port = md.port(n);
        md.set(port, v);
    }
    md.set(sk, 1);
    md.set(sl, 1);
    md.set(sv, 1);
    md.tick(); // the beat is taken at this edge
    md.set(sv, 0);
    let mut cycles = 1;
    while md.get(mv) == 0 {
        md.tick();
        cycles += 1;
        assert!(cycles < 1000, "{module}: no output");
    }
    cycles
}
