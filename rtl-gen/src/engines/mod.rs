//! Streaming softmax engines (AXI-Stream in and out, row slots).

pub mod baps;
pub mod hccs;
