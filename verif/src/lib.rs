pub mod golden;
pub mod manifest;
pub mod cosim;
pub mod unit;
pub mod stream;
