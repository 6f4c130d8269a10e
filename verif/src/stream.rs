//! Driving a streaming (AXI-Stream) module on the co-simulation: rows in on
//! `s_*`, rows out on `m_*`, with random `s_valid` gaps and `m_ready` stalls,
//! and the stream rules of spec/interfaces.md asserted every cycle:
//! valid is never dropped before ready, data is stable while stalled, `keep`
//! is contiguous from lane 0, every input row gives one output row with the
//! same beats and keep pattern, in order.

use crate::cosim::{Model, Port};
use rand::Rng;

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
}

/// Handshake activity: the chance of `s_valid` being offered on a cycle and of
/// `m_ready` being high.
#[derive(Clone, Copy, Debug)]
pub struct Traffic {
    pub s_valid_prob: f64,
    pub m_ready_prob: f64,
}

pub const FULL_SPEED: Traffic = Traffic { s_valid_prob: 1.0, m_ready_prob: 1.0 };

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
    pub cycles: u64,
    pub in_beats: u64,
    pub out_beats: u64,
    pub stalls: u64,
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
    /// rules every cycle. Panics if the module stops making progress.
    pub fn run(&mut self, rows: &[RowIn], traffic: Traffic, rng: &mut impl Rng, stats: &mut Stats) -> Vec<RowOut> {
        let lanes = self.lanes;
        // Input beats: (data words, keep, last, row index, first beat of row)
        let mut beats = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let n = row.elems.len();
            let nb = if row.empty_last_beat { n / lanes + 1 } else { n.div_ceil(lanes).max(1) };
            for b in 0..nb {
                let lo = (b * lanes).min(n);
                let hi = ((b + 1) * lanes).min(n);
                let keep = if hi > lo { (1u64 << (hi - lo)) - 1 } else { 0 };
                beats.push((pack(&row.elems[lo..hi], self.in_w, self.s_data.words()), keep, b + 1 == nb, r, b == 0));
            }
        }
        // Expected shape of each output row: beats and keep of its last beat.
        let mut out: Vec<RowOut> = Vec::new();
        let mut cur = RowOut { elems: Vec::new(), err: false, beats: 0 };
        let mut next = 0usize;
        let mut offering = false;
        let mut prev_m: Option<(Vec<u32>, u64, u64, u64)> = None; // stalled output beat
        let mut idle = 0u64;
        let full_keep = (1u64 << lanes) - 1;
        while out.len() < rows.len() {
            // Input side: once offered, a beat stays offered (and unchanged) until taken.
            if !offering && next < beats.len() && rng.gen_bool(traffic.s_valid_prob) {
                offering = true;
                let (ref words, keep, last, r, first) = beats[next];
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
            }
            self.model.set(self.s_valid, offering as u64);
            let ready_out = rng.gen_bool(traffic.m_ready_prob);
            self.model.set(self.m_ready, ready_out as u64);
            self.model.eval();
            let s_fire = offering && self.model.get(self.s_ready) == 1;
            let m_valid = self.model.get(self.m_valid) == 1;
            if let Some((ref d, k, l, e)) = prev_m {
                assert!(m_valid, "m_valid dropped before m_ready (cycle {})", stats.cycles);
                let now = (self.model.get_words(self.m_data), self.model.get(self.m_keep), self.model.get(self.m_last), self.model.get(self.m_err));
                assert!(now == (d.clone(), k, l, e), "m_* changed while stalled (cycle {})", stats.cycles);
            }
            if m_valid {
                let keep = self.model.get(self.m_keep);
                assert!(keep & (keep + 1) == 0, "m_keep {keep:#b} not contiguous from lane 0");
                let last = self.model.get(self.m_last) == 1;
                let err = self.model.get(self.m_err) == 1;
                assert!(last || keep == full_keep, "m_keep {keep:#b} not full on a beat that is not last");
                assert!(last || !err, "m_err on a beat that is not last");
                if ready_out {
                    let words = self.model.get_words(self.m_data);
                    let n = keep.count_ones() as usize;
                    cur.elems.extend(unpack(&words, self.out_w, n));
                    cur.beats += 1;
                    stats.out_beats += 1;
                    if last {
                        cur.err = err;
                        out.push(std::mem::replace(&mut cur, RowOut { elems: Vec::new(), err: false, beats: 0 }));
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
            assert!(idle < 10_000, "no progress for 10000 cycles: {} of {} rows out", out.len(), rows.len());
        }
        assert!(next == beats.len(), "every input beat consumed");
        // Same shape: as many beats as the input row, same element count.
        for (r, (i, o)) in rows.iter().zip(&out).enumerate() {
            let n = i.elems.len();
            let nb = if i.empty_last_beat { n / lanes + 1 } else { n.div_ceil(lanes).max(1) };
            assert_eq!(o.beats, nb, "row {r}: output beats");
            assert_eq!(o.elems.len(), n, "row {r}: output elements (keep pattern)");
        }
        out
    }
}
