//! Driving a fixed-latency, one-input-per-cycle unit (`in_valid` .. `out_valid`)
//! on the co-simulation, with the valid/latency contract checked every cycle.

use crate::cosim::{Model, Port};
use crate::fail_vcd::FailTrace;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub struct FixedLatencyUnit {
    pub model: Model,
    pub latency: u32,
    in_valid: Port,
    out_valid: Port,
}

impl FixedLatencyUnit {
    /// A model of `module` with `latency` from the manifest, reset.
    pub fn new(module: &str, latency: u32, seed: u64) -> Self {
        let mut model = Model::with_seed(module, seed);
        let in_valid = model.port("in_valid");
        let out_valid = model.port("out_valid");
        model.set(in_valid, 0);
        model.reset(3);
        assert_eq!(model.get(out_valid), 0, "{module}: out_valid must be low after reset");
        FixedLatencyUnit { model, latency, in_valid, out_valid }
    }

    /// With one input in flight, `rst` for a cycle: out_valid must stay low
    /// for the whole latency after it (the input is dropped, not delivered).
    pub fn assert_reset_drops_inputs_in_flight(&mut self) {
        let rst = self.model.port("rst");
        self.model.set(self.in_valid, 1);
        self.model.tick();
        self.model.set(self.in_valid, 0);
        self.model.set(rst, 1);
        self.model.tick();
        self.model.set(rst, 0);
        for _ in 0..self.latency + 1 {
            assert_eq!(self.model.get(self.out_valid), 0, "{}: a reset must drop inputs in flight", self.model.name());
            self.model.tick();
        }
    }

    /// Feeds every input once, in order; `gap_prob` is the chance of an idle
    /// cycle (in_valid low, other inputs random) before each input. Checks that
    /// out_valid is high exactly `latency` cycles after each input, and hands
    /// each (input index, output model) to `check`.
    pub fn run<I>(
        &mut self,
        inputs: &[I],
        gap_prob: f64,
        rng: &mut impl Rng,
        mut apply: impl FnMut(&mut Model, &I),
        mut junk: impl FnMut(&mut Model, &mut dyn rand::RngCore),
        mut check: impl FnMut(usize, &Model),
    ) {
        self.run_inner(inputs, gap_prob, rng, &mut apply, &mut junk, &mut check, None)
    }

    /// [`FixedLatencyUnit::run`] on a fresh unit with the stimulus drawn from
    /// `rng_seed`, `check` saying what is wrong with an output instead of
    /// panicking. On the first wrong output the same run is repeated from a
    /// fresh unit (same model seed, same stimulus) with a VCD of the failing
    /// window, and this panics naming the file.
    pub fn run_checked<I>(
        mut self,
        inputs: &[I],
        gap_prob: f64,
        rng_seed: u64,
        mut apply: impl FnMut(&mut Model, &I),
        mut junk: impl FnMut(&mut Model, &mut dyn rand::RngCore),
        mut check: impl FnMut(usize, &Model) -> Result<(), String>,
    ) {
        let mut failure: Option<(String, u64)> = None;
        let mut first_failure = |i: usize, md: &Model| {
            if failure.is_none() {
                if let Err(msg) = check(i, md) {
                    failure = Some((format!("input #{i}: {msg}"), md.cycles()));
                }
            }
        };
        let mut rng = StdRng::seed_from_u64(rng_seed);
        self.run_inner(inputs, gap_prob, &mut rng, &mut apply, &mut junk, &mut first_failure, None);
        let Some((msg, at)) = failure else { return };
        let (name, seed) = (self.model.name(), self.model.seed());
        let mut trace = FailTrace::around(name, seed, at.saturating_sub(self.latency as u64 + 1), at);
        let mut again = FixedLatencyUnit::new(name, self.latency, seed);
        let mut rng = StdRng::seed_from_u64(rng_seed);
        again.run_inner(inputs, gap_prob, &mut rng, &mut apply, &mut junk, &mut |_, _| {}, Some(&mut trace));
        again.model.trace_close();
        panic!("{name} (seed {seed}, stimulus seed {rng_seed}): {msg}\n  {}", trace.note());
    }

    #[allow(clippy::too_many_arguments)]
    fn run_inner<I>(
        &mut self,
        inputs: &[I],
        gap_prob: f64,
        rng: &mut impl Rng,
        apply: &mut impl FnMut(&mut Model, &I),
        junk: &mut impl FnMut(&mut Model, &mut dyn rand::RngCore),
        check: &mut impl FnMut(usize, &Model),
        mut trace: Option<&mut FailTrace>,
    ) {
        let lat = self.latency as usize;
        // Index of the input applied k cycles ago, per cycle, in a ring.
        let mut ring: Vec<Option<usize>> = vec![None; lat];
        let mut next = 0;
        let mut slot = 0;
        let mut seen = 0;
        while seen < inputs.len() {
            if let Some(t) = trace.as_deref_mut() {
                if !t.step(&mut self.model) {
                    return;
                }
            }
            let idx = if next < inputs.len() && !(gap_prob > 0.0 && rng.gen_bool(gap_prob)) {
                apply(&mut self.model, &inputs[next]);
                self.model.set(self.in_valid, 1);
                next += 1;
                Some(next - 1)
            } else {
                junk(&mut self.model, rng);
                self.model.set(self.in_valid, 0);
                None
            };
            ring[slot] = idx;
            self.model.tick();
            // The input applied latency-1 ticks before this one is due now (its
            // ring slot is rewritten only at the next tick).
            slot = (slot + 1) % lat;
            let due = ring[slot];
            let valid = self.model.get(self.out_valid) == 1;
            match due {
                Some(i) => {
                    assert!(valid, "out_valid low {lat} cycle(s) after input #{i}");
                    check(i, &self.model);
                    seen += 1;
                }
                None => assert!(!valid, "out_valid high with no input {lat} cycle(s) before"),
            }
        }
    }
}
