pub mod golden;
pub mod manifest;
