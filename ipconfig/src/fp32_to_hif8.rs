//! `fp32_to_hif8`: FP32 -> HiF8 with TA rounding, optional saturation.

use crate::{ensure, ConfigError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
pub struct Fp32ToHif8Config {
    /// Pipeline registers, = latency, 1 or 2 (default 2): 1: output register
    /// only; 2: also a register between round and pack.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2), help = None, long_help = None)]
    pub stages: u32,
}

impl Fp32ToHif8Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=2).contains(&self.stages), "fp32_to_hif8: --stages must be 1 or 2, got {}", self.stages);
        Ok(())
    }
}
