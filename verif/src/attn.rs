//! Real attention logits (`shared/data/minilm-attn`, format ATTNLGT1) and a float softmax
//! reference.
//!
//! Format (little-endian, no padding), from the data set's README:
//! header of 32 bytes: magic `ATTNLGT1`, u32 version = 1, u32 n_rows, u32 n_layers, u32 n_heads,
//! u64 n_floats; then n_rows records: u32 seq_id, u16 layer, u16 head, u32 q_idx, u32 k_len,
//! k_len f32 logits. File size = 32 + 16 n_rows + 4 n_floats; records ordered by
//! (seq_id, layer, head, q_idx).
//!
//! The reader checks all of that (and that every logit is finite, layer/head are in range,
//! q_idx < k_len, k_len >= 1) and reports the first problem as an error naming it; it never
//! panics on a bad file. Rows are kept compactly: one `Vec<f32>` with every logit plus a
//! small index entry per row.
//!
//! Split: the file holds only the `calib` sequences of the extraction (its hold-out sequences
//! were not shipped), so calibration and held-out rows are separated here **by sequence**:
//! `seq_id % 5 == 4` is held out (36 of the 180 sequences, 20 %), everything else is for
//! calibration. All rows of one sequence (all layers, heads, queries) fall on the same side,
//! so held-out rows come from text the calibration never saw.

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};

/// `shared/data/minilm-attn/calib.attnlog`, beside the checkout (same relative path in CI).
pub const DEFAULT_PATH: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/minilm-attn/calib.attnlog");

pub const MAGIC: &[u8; 8] = b"ATTNLGT1";
pub const VERSION: u32 = 1;
pub const HEADER_BYTES: usize = 32;
pub const RECORD_HEADER_BYTES: usize = 16;

/// Which side of the split a row is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Split {
    Calib,
    HeldOut,
}

/// The split rule, as text for reports.
pub const SPLIT_RULE: &str = "by sequence: seq_id % 5 == 4 held out, all other sequences calibrate";

/// The split rule: `seq_id % 5 == 4` is held out.
pub fn split_of(seq_id: u32) -> Split {
    if seq_id % 5 == 4 {
        Split::HeldOut
    } else {
        Split::Calib
    }
}

/// Index entry of one row; its logits are `AttnData::logits[start .. start + len]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowMeta {
    pub seq_id: u32,
    pub layer: u16,
    pub head: u16,
    pub q_idx: u32,
    pub start: usize,
    pub len: usize,
}

/// One row, borrowed from [`AttnData`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row<'a> {
    pub seq_id: u32,
    pub layer: u16,
    pub head: u16,
    pub q_idx: u32,
    pub logits: &'a [f32],
}

impl Row<'_> {
    pub fn split(&self) -> Split {
        split_of(self.seq_id)
    }
}

#[derive(Clone, Debug)]
pub struct AttnData {
    pub version: u32,
    pub n_layers: u32,
    pub n_heads: u32,
    pub rows: Vec<RowMeta>,
    /// Every logit of every row, in file order.
    pub logits: Vec<f32>,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

impl AttnData {
    /// Reads and validates an ATTNLGT1 file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read attention-logit file {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| format!("{}: not a valid ATTNLGT1 file", path.display()))
    }

    /// Parses and validates ATTNLGT1 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        ensure!(
            b.len() >= HEADER_BYTES,
            "truncated header: {} bytes, the header alone is {HEADER_BYTES}",
            b.len()
        );
        ensure!(
            &b[0..8] == MAGIC,
            "bad magic {:?} (expected \"ATTNLGT1\")",
            String::from_utf8_lossy(&b[0..8])
        );
        let version = u32_at(b, 8);
        ensure!(version == VERSION, "unsupported version {version} (expected {VERSION})");
        let n_rows = u32_at(b, 12) as u64;
        let n_layers = u32_at(b, 16);
        let n_heads = u32_at(b, 20);
        let n_floats = u64_at(b, 24);
        ensure!((1..=65536).contains(&n_layers), "bad header: n_layers = {n_layers}");
        ensure!((1..=65536).contains(&n_heads), "bad header: n_heads = {n_heads}");
        let expect = n_floats
            .checked_mul(4)
            .and_then(|f| f.checked_add(HEADER_BYTES as u64 + RECORD_HEADER_BYTES as u64 * n_rows))
            .with_context(|| format!("bad header: n_floats = {n_floats} overflows"))?;
        if (b.len() as u64) < expect {
            bail!(
                "truncated file: {} bytes, the header (n_rows = {n_rows}, n_floats = {n_floats}) \
                 implies 32 + 16*n_rows + 4*n_floats = {expect} bytes",
                b.len()
            );
        }
        ensure!(
            b.len() as u64 == expect,
            "size mismatch: {} bytes, the header (n_rows = {n_rows}, n_floats = {n_floats}) \
             implies {expect} bytes ({} trailing bytes)",
            b.len(),
            b.len() as u64 - expect
        );

        let mut rows = Vec::with_capacity(n_rows as usize);
        let mut logits = Vec::with_capacity(n_floats as usize);
        let mut off = HEADER_BYTES;
        let mut prev: Option<(u32, u16, u16, u32)> = None;
        for i in 0..n_rows as usize {
            ensure!(
                off + RECORD_HEADER_BYTES <= b.len(),
                "truncated record {i}: its header starts at byte {off}, the file ends at {} \
                 (the k_len fields add up to more than n_floats = {n_floats})",
                b.len()
            );
            let seq_id = u32_at(b, off);
            let layer = u16_at(b, off + 4);
            let head = u16_at(b, off + 6);
            let q_idx = u32_at(b, off + 8);
            let k_len = u32_at(b, off + 12) as usize;
            let what = || format!("record {i} (seq {seq_id} layer {layer} head {head} q {q_idx})");
            ensure!(k_len >= 1, "{}: k_len = 0", what());
            ensure!((layer as u32) < n_layers, "{}: layer >= n_layers = {n_layers}", what());
            ensure!((head as u32) < n_heads, "{}: head >= n_heads = {n_heads}", what());
            ensure!((q_idx as usize) < k_len, "{}: q_idx >= k_len = {k_len}", what());
            let key = (seq_id, layer, head, q_idx);
            if let Some(p) = prev {
                ensure!(
                    key > p,
                    "{}: out of order (records must be sorted by seq_id, layer, head, q_idx; \
                     previous was {p:?})",
                    what()
                );
            }
            prev = Some(key);
            off += RECORD_HEADER_BYTES;
            let end = off + 4 * k_len;
            ensure!(
                end <= b.len() && (logits.len() + k_len) as u64 <= n_floats,
                "truncated record {}: k_len = {k_len} runs past the end of the data \
                 (the k_len fields add up to more than n_floats = {n_floats})",
                what()
            );
            let start = logits.len();
            for j in 0..k_len {
                let v = f32::from_le_bytes(b[off + 4 * j..off + 4 * j + 4].try_into().unwrap());
                ensure!(v.is_finite(), "{}: logit {j} is not finite ({v})", what());
                logits.push(v);
            }
            off = end;
            rows.push(RowMeta { seq_id, layer, head, q_idx, start, len: k_len });
        }
        ensure!(
            logits.len() as u64 == n_floats,
            "the records hold {} floats, the header says n_floats = {n_floats}",
            logits.len()
        );
        Ok(AttnData { version, n_layers, n_heads, rows, logits })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn row(&self, i: usize) -> Row<'_> {
        let m = &self.rows[i];
        Row {
            seq_id: m.seq_id,
            layer: m.layer,
            head: m.head,
            q_idx: m.q_idx,
            logits: &self.logits[m.start..m.start + m.len],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        (0..self.rows.len()).map(move |i| self.row(i))
    }

    /// Indices of the rows of one (layer, head) on one side of the split, in file order.
    pub fn head_rows(&self, layer: u16, head: u16, split: Split) -> Vec<usize> {
        (0..self.rows.len())
            .filter(|&i| {
                let m = &self.rows[i];
                m.layer == layer && m.head == head && split_of(m.seq_id) == split
            })
            .collect()
    }

    /// Row indices grouped by head (index `layer * n_heads + head`) and split:
    /// `[head][0]` calib, `[head][1]` held out.
    pub fn by_head(&self) -> Vec<[Vec<usize>; 2]> {
        let nh = (self.n_layers * self.n_heads) as usize;
        let mut out: Vec<[Vec<usize>; 2]> = (0..nh).map(|_| [Vec::new(), Vec::new()]).collect();
        for (i, m) in self.rows.iter().enumerate() {
            let h = m.layer as usize * self.n_heads as usize + m.head as usize;
            let side = (split_of(m.seq_id) == Split::HeldOut) as usize;
            out[h][side].push(i);
        }
        out
    }
}

/// Float softmax reference: computed in f64, max-subtracted. Returns probabilities summing to 1.
pub fn softmax(x: &[f32]) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    softmax_into(x, &mut out);
    out
}

/// [`softmax`] into a reused buffer.
pub fn softmax_into(x: &[f32], out: &mut Vec<f64>) {
    out.clear();
    if x.is_empty() {
        return;
    }
    let m = x.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v)) as f64;
    let mut sum = 0.0;
    for &v in x {
        let e = (v as f64 - m).exp();
        out.push(e);
        sum += e;
    }
    for e in out.iter_mut() {
        *e /= sum;
    }
}

/// Index of the largest element (the first one on ties).
pub fn argmax_f32(x: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best
}

/// The int8 quantiser in front of HCCS: round(x * scale), saturated.
pub fn quantize(x_f: f32, scale: f64) -> i8 {
    (x_f as f64 * scale).round().clamp(-128.0, 127.0) as i8
}
