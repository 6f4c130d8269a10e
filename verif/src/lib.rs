pub mod golden;
pub mod manifest;
pub mod attn;
pub mod hccs_calib;
pub mod cosim;
pub mod unit;
pub mod stream;
