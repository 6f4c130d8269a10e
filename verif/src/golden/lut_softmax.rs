//! Golden model of the exp-table int8 softmax baseline (`lut_softmax`), the
//! conventional design HCCS is compared against (in the spirit of hls4ml's
//! softmax): the int8 logits are x = round(logit * scale), so
//! exp(logit - max) = exp(-(m - x) / scale), read from a 256-entry table
//! e[d] = round(32767 * exp(-d / scale)); then the same normalisation as the
//! HCCS DIV engine: Z = sum e, rho = floor(T * 2^R / Z), p = min(T, floor(e * rho / 2^R)).
//! Rows longer than max_len give zeros and the error flag; Z >= 32767 > 0 always.

use super::hccs::{HccsConfig, HccsOut};

pub fn lut_entry(d: u32, scale: f64) -> u32 {
    (32767.0 * (-(d as f64) / scale).exp()).round() as u32
}

pub fn lut_softmax_row(x: &[i8], scale: f64, cfg: &HccsConfig) -> HccsOut {
    assert!(!x.is_empty(), "empty row");
    if x.len() > cfg.max_len {
        return HccsOut { p: vec![0; x.len()], err: true };
    }
    let m = *x.iter().max().unwrap() as i32;
    let e: Vec<u64> = x.iter().map(|&v| lut_entry((m - v as i32) as u32, scale) as u64).collect();
    let z: u64 = e.iter().sum();
    let t = cfg.t() as u128;
    let rho = (t << cfg.r) / z as u128;
    let p = e.iter().map(|&s| ((s as u128 * rho) >> cfg.r).min(t) as u32).collect();
    HccsOut { p, err: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn one_element_and_equal_pair() {
        let cfg = HccsConfig::default();
        assert_eq!(lut_entry(0, 16.0), 32767);
        let o = lut_softmax_row(&[5], 16.0, &cfg);
        assert_eq!((o.p[0], o.err), (254, false)); // floor(32767 * floor(255*2^15/32767) / 2^15)
        let o = lut_softmax_row(&[3, 3], 16.0, &cfg);
        assert_eq!(o.p, vec![126, 126]); // rho = floor(255*2^15/65534) = 127, floor(32767*127/2^15) = 126
    }
}
