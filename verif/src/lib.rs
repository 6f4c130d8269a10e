pub mod golden;
pub mod manifest;
pub mod attn;
pub mod cosim;
pub mod unit;
pub mod stream;
pub mod fail_vcd;
pub mod tb;
