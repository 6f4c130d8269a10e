//! Research tools built on the golden models, kept apart from verification:
//! `hccs_calib` (per-head HCCS calibration on the MiniLM logits) and the
//! binaries `calibrate` (constants + report), `accuracy_baps` (BAPS accuracy
//! report) and `qor_plots` (the QoR report's plots).

pub mod hccs_calib;
