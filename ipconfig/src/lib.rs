//! ipconfig: the configuration of every generator of `rtl-gen`, typed once and
//! shared with `verif`, and the manifest (`generated/manifest.json`) that
//! lists the generated modules with their configuration.
//!
//! Only *what* is configured lives here: fields, their legal ranges
//! (`validate`), defaults, and the number-format table the configurations
//! name. How a configuration becomes hardware stays in `rtl-gen`; how its
//! results are checked (the golden models' arithmetic) stays in `verif`.
//!
//! The configs derive clap's `Args` where the `rtl-gen` CLI takes them as they
//! are (`#[command(flatten)]`); their `help = ...` attributes are the CLI's
//! help text, the doc comments are the reference.

pub mod baps;
pub mod exp2;
pub mod formats;
pub mod fp32_to_hif8;
pub mod hccs;
pub mod manifest;

pub use baps::{BapsConfig, BapsOut};
pub use exp2::{Exp2Arch, Exp2Config, Exp2FloatConfig, Exp2TableConfig};
pub use formats::{FloatFormat, BF16, FLOAT_FORMATS, FP16, FP32};
pub use fp32_to_hif8::Fp32ToHif8Config;
pub use hccs::{HccsConfig, HccsHeadsConfig, HeadTableRef, Recip, Score};
pub use manifest::{Dir, Manifest, ModuleEntry, Params, Port};

/// A configuration outside its legal range; the message names the parameter
/// and the value (e.g. "hccs: LANES must be 1..16, got 0").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// `Err(ConfigError(format!(...)))` unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::ConfigError(format!($($fmt)+)));
        }
    };
}
pub(crate) use ensure;
