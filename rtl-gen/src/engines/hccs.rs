//! `hccs_softmax` / `hccs_softmax_clb`: the HCCS int8 softmax surrogate
//! (spec/hccs.md) as a streaming AXI-Stream engine.
//!
//! A row needs its maximum before any score, and its score sum Z before any
//! output, so each row is read three times. Four row slots rotate through four
//! units that work on different rows at once, so back-to-back rows stream:
//! - ingest: store the row's int8 logits (8 bits per element), track the max,
//!   take the per-row constants with the first beat;
//! - score:  re-read the row, s = B - S*min(m - x, Dmax), sum Z;
//! - recip:  DIV: rho = floor(T*2^R / Z), a restoring divider retiring several
//!   quotient bits a cycle so it keeps up with an 8-beat row; CLB: k = floor(log2 Z);
//! - output: re-read, recompute s, p = min(T, floor(s*rho/2^R)) or
//!   min(T, floor(T*s/2^k)), into a small output FIFO that absorbs `m_ready` stalls.
//! Each unit moves one beat a cycle with no bubble between rows.

use crate::emit::{emit, Module, Params};
use crate::vtext::{case_table, lit};
use rust_hdl::prelude::*;

/// The configuration (`HccsConfig` with its `Recip` and `Score`, and the
/// manifest's descriptor of a head table) is typed once in `ipconfig`.
pub use ipconfig::{HccsConfig, HeadTableRef, Recip, Score};

/// Per-head constants baked into the engine (from a calibration JSON): the
/// engine then takes `s_head[7:0]` with the first beat instead of B, S, Dmax.
/// A head index past the table gives B = S = Dmax = 0: Z = 0, the row is flagged.
#[derive(Clone, Debug)]
pub struct HeadTable {
    pub source: String,
    /// (B, S, Dmax) per head index.
    pub heads: Vec<(u16, u8, u8)>,
}

impl HeadTable {
    /// Reads the `per_head` constants of a calibration JSON (`verif` binary
    /// `calibrate`). Head index = layer * heads_per_layer + head.
    pub fn from_calibration(path: &std::path::Path) -> anyhow::Result<HeadTable> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not valid JSON", path.display()))?;
        let heads = v["per_head"]
            .as_array()
            .with_context(|| format!("{}: no `per_head` array", path.display()))?;
        let field = |h: &serde_json::Value, k: &str, i: usize| -> anyhow::Result<u64> {
            h[k].as_u64().with_context(|| format!("{}: per_head[{i}] has no integer `{k}`", path.display()))
        };
        let mut rows = Vec::new();
        for (i, h) in heads.iter().enumerate() {
            let (layer, head) = (field(h, "layer", i)?, field(h, "head", i)?);
            let (b, s, d) = (field(h, "b", i)?, field(h, "s", i)?, field(h, "dmax", i)?);
            anyhow::ensure!(b <= 32767 && s <= 127 && d <= 127, "{}: per_head[{i}]: B={b} S={s} Dmax={d} out of range", path.display());
            rows.push((layer, head, (b as u16, s as u8, d as u8)));
        }
        let per_layer = rows.iter().map(|r| r.1).max().map_or(0, |h| h + 1);
        let layers = rows.iter().map(|r| r.0).max().map_or(0, |l| l + 1);
        let mut table = vec![None; (per_layer * layers) as usize];
        for (l, h, c) in rows {
            let slot = &mut table[(l * per_layer + h) as usize];
            anyhow::ensure!(slot.is_none(), "{}: layer {l} head {h} listed twice", path.display());
            *slot = Some(c);
        }
        let heads = table
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.with_context(|| format!("{}: no constants for head index {i}", path.display())))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let t = HeadTable { source: path.file_name().map_or("?".into(), |f| f.to_string_lossy().into_owned()), heads };
        t.validate()?;
        Ok(t)
    }

    /// What the manifest records of the table: its file and size.
    pub fn descriptor(&self) -> HeadTableRef {
        HeadTableRef { source: self.source.clone(), heads: self.heads.len() }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.heads.is_empty() && self.heads.len() <= 256, "{}: 1..256 heads needed, got {}", self.source, self.heads.len());
        for (i, &(b, s, d)) in self.heads.iter().enumerate() {
            anyhow::ensure!(b <= 32767 && s <= 127 && d <= 127, "{}: head {i}: B={b} S={s} Dmax={d} out of range (B 0..32767, S and Dmax 0..127)", self.source);
        }
        Ok(())
    }
}

/// The engine's widths and timing, derived from its configuration (the
/// generator's business, so not methods of `ipconfig::HccsConfig`).
pub trait HccsSizing {
    fn z_bits(&self) -> u32;
    fn q_bits(&self) -> u32;
    fn div_bits_per_cycle(&self) -> u32;
    fn latency(&self, beats: u32) -> u32;
}

impl HccsSizing for HccsConfig {
    /// Bits of Z = sum of n scores of at most 16 bits (B is a 16-bit port).
    fn z_bits(&self) -> u32 {
        clog2(self.max_len as u64) + 16
    }
    /// Bits of rho = floor(T * 2^R / Z) <= T * 2^R.
    fn q_bits(&self) -> u32 {
        self.out_bits + self.r
    }
    /// Quotient bits retired per cycle: the divide of one row then takes at
    /// most 7 cycles, load included, within an 8-beat row.
    fn div_bits_per_cycle(&self) -> u32 {
        self.q_bits().div_ceil(6)
    }
    /// Cycles from a row's first input beat to its first output beat with no
    /// stalls, for a row of `beats` beats (the manifest's latency is for 1 beat).
    fn latency(&self, beats: u32) -> u32 {
        // ingest (beats) + score issue/compute (beats + 1) + state hand-offs +
        // recip + output issue, score, product, FIFO.
        let recip = match self.recip {
            Recip::Div => self.q_bits().div_ceil(self.div_bits_per_cycle()),
            Recip::Clb => 0, // k is written as the slot turns READY
        };
        2 * beats + 1 + recip + 4
    }
}

/// Entry d of the exp-LUT baseline: round(32767 * exp(-d / scale)).
pub fn exp_lut_entry(d: u32, scale: f64) -> u16 {
    (32767.0 * (-(d as f64) / scale).exp()).round() as u16
}

pub fn clog2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

/// The engine's Verilog body (the module header comes from the rust-hdl ports).
fn body(c: &HccsConfig, heads: Option<&HeadTable>) -> String {
    let l = c.lanes;
    let ob = c.out_bits;
    let depth = c.max_len / l;
    let aw = clog2(depth as u64).max(1);
    let zw = c.z_bits();
    let qw = c.q_bits();
    let kw = clog2(zw as u64).max(1);
    let t = (1u64 << ob) - 1;
    let recip_decl = match c.recip {
        Recip::Div => format!("reg [{}:0] rho [0:3];            // floor(T*2^R / Z), 0 when Z == 0\n", qw - 1),
        Recip::Clb => format!("reg [{}:0] klog [0:3];           // floor(log2 Z)\n", kw - 1),
    };
    let recip_unit = match c.recip {
        Recip::Div => div_unit(c),
        Recip::Clb => clb_unit(c),
    };
    let product = match c.recip {
        Recip::Div => format!(
            "// p = min(T, floor(s * rho / 2^R))\n\
// (its R fraction bits are dropped: that is the floor)\n\
/* verilator lint_off UNUSEDSIGNAL */\n\
function [{obm}:0] prob;\n\
    input [15:0] s;\n\
    input [{qwm}:0] r;\n\
    reg [{pw}:0] prod;\n\
    begin\n\
        prod = {{{qw}'d0, s}} * {{16'd0, r}};\n\
        prob = prod[{pw}:{rr}] > {tlit} ? {tobl} : prod[{hi}:{rr}];\n\
    end\n\
endfunction\n\
/* verilator lint_on UNUSEDSIGNAL */\n",
            obm = ob - 1,
            qwm = qw - 1,
            pw = qw + 16 - 1,
            qw = qw,
            rr = c.r,
            tlit = lit(qw + 16 - c.r, t),
            tobl = lit(ob, t),
            hi = c.r + ob - 1,
        ),
        Recip::Clb => format!(
            "// p = min(T, floor(T * s / 2^k))\n\
function [{obm}:0] prob;\n\
    input [15:0] s;\n\
    input [{kwm}:0] k;\n\
    reg [{tw}:0] ts;\n\
    begin\n\
        ts = ({{{ob}'d0, s}} << {ob}) - {{{ob}'d0, s}};\n\
        ts = ts >> k;\n\
        prob = ts > {tlit} ? {tobl} : ts[{obm}:0];\n\
    end\n\
endfunction\n",
            obm = ob - 1,
            kwm = kw - 1,
            tw = 16 + ob - 1,
            ob = ob,
            tlit = lit(16 + ob, t),
            tobl = lit(ob, t),
        ),
    };
    let consts = match heads {
        None => "wire [15:0] in_b = s_b;\nwire [7:0] in_s = s_s;\nwire [7:0] in_dmax = s_dmax;\n".to_string(),
        Some(t) => {
            let rows: Vec<(u64, u64)> = t.heads.iter().enumerate()
                .map(|(i, &(b, s, d))| (i as u64, (b as u64) << 16 | (s as u64) << 8 | d as u64)).collect();
            format!("// Calibrated constants per head ({}): {{B, S, Dmax}}\nreg [31:0] head_consts;\n{}wire [15:0] in_b = head_consts[31:16];\nwire [7:0] in_s = head_consts[15:8];\nwire [7:0] in_dmax = head_consts[7:0];\n",
                t.source, case_table("s_head", 8, "head_consts", 32, &rows, 0, None))
        }
    };
    let score_fn = match c.score {
        Score::Hccs => "// s = max(0, B - S*min(m - x, Dmax)), x and m int8 with x <= m\n\
function [15:0] score;\n\
    input [7:0] x;\n\
    input [7:0] m;\n\
    input [15:0] b;\n\
    input [7:0] s;\n\
    input [7:0] dmax;\n\
    reg [7:0] gap;\n\
    reg [7:0] d;\n\
    reg [15:0] sd;\n\
    begin\n\
        gap = m - x;                 // m >= x as signed, so 0..255 fits unsigned\n\
        d = gap > dmax ? dmax : gap;\n\
        sd = {8'd0, s} * {8'd0, d};\n\
        score = sd > b ? 16'd0 : b - sd;\n\
    end\n\
endfunction\n".to_string(),
        Score::ExpLut { scale } => {
            let rows: Vec<(u64, u64)> = (0..256u64).map(|d| (d, exp_lut_entry(d as u32, scale) as u64)).collect();
            format!("// s = round(32767 * exp(-(m - x) / {scale})): exp table on the max-centred input.\n\
// B, S, Dmax are not used: the ports stay for drop-in compatibility, hence:\n\
/* verilator lint_off UNUSEDSIGNAL */\n\
function [15:0] score;\n\
    input [7:0] x;\n\
    input [7:0] m;\n\
    input [15:0] b;\n\
    input [7:0] s;\n\
    input [7:0] dmax;\n\
    reg [7:0] gap;\n\
    reg [15:0] e;\n\
    begin\n\
        gap = m - x;\n\
        {}\
        score = e;\n\
    end\n\
endfunction\n\
/* verilator lint_on UNUSEDSIGNAL */\n", case_table("gap", 8, "e", 16, &rows, 0, None).replace("always @(*) begin\n", "").replace("\nend\n", "\n").replace("endcase", "endcase\n"))
        }
    };
    let recip_of = match c.recip {
        Recip::Div => "rho[d_slot]",
        Recip::Clb => "klog[d_slot]",
    };
    let recip_w = match c.recip {
        Recip::Div => qw,
        Recip::Clb => kw,
    };
    format!(
        r#"// ---- row slots: 4 rows in flight, each MAX_LEN/LANES beats of LANES int8 logits.
// Slot states: FREE -> FULL (ingested) -> SCORED (Z known) -> READY (reciprocal known) -> FREE.
localparam [1:0] FREE = 2'd0, FULL = 2'd1, SCORED = 2'd2, READY = 2'd3;
reg [{dw}:0] mem [0:{memd}];            // row buffers: int8 logits, 8 bits an element
reg [7:0] st;                        // 2 state bits per slot
reg [31:0] nbeats [0:3];             // beats of the row (the output has as many)
reg [{lm}:0] lkeep [0:3];            // keep of its last beat
reg [7:0] mx [0:3];                  // row maximum (int8)
reg [15:0] cb [0:3];                 // B, S, Dmax of the row
reg [7:0] cs [0:3];
reg [7:0] cd [0:3];
reg over [0:3];                      // longer than MAX_LEN: outputs 0, flagged
reg negc [0:3];                      // B < S*Dmax: scores clamp at 0, flagged
reg [{zwm}:0] zs [0:3];              // Z = sum of scores
{recip_decl}
{score_fn}{consts}
{product}
// ---- ingest
wire [{lm}:0] keep_in = s_keep;       // indexable also when LANES = 1 (a scalar port)
reg [1:0] w_slot;
reg [31:0] w_beat;
reg [7:0] w_max;
wire w_free = st[2*w_slot +: 2] == FREE;
always @(*) s_ready = w_free;
wire w_fire = s_valid && w_free;
reg [7:0] beat_max;
integer i;
always @(*) begin
    beat_max = w_beat == 32'd0 ? 8'h80 : w_max;
    for (i = 0; i < {l}; i = i + 1)
        if (keep_in[i] && $signed(s_data[8*i +: 8]) > $signed(beat_max)) beat_max = s_data[8*i +: 8];
end

// ---- score: read a FULL slot beat by beat, sum its scores
reg [1:0] b_slot;
reg [31:0] b_beat;
wire b_go = st[2*b_slot +: 2] == FULL;
wire b_end = over[b_slot] || b_beat == nbeats[b_slot] - 32'd1;
reg b1_valid, b1_last;
reg [1:0] b1_slot;
reg [{lm}:0] b1_keep;
reg [{dw}:0] b1_data;
reg [{zwm}:0] z_acc;
reg [{zwm}:0] b_sum;
always @(*) begin
    b_sum = z_acc;
    for (i = 0; i < {l}; i = i + 1)
        if (b1_keep[i]) b_sum = b_sum + {{{zpad}'d0, score(b1_data[8*i +: 8], mx[b1_slot], cb[b1_slot], cs[b1_slot], cd[b1_slot])}};
end

{recip_unit}
// ---- output: read a READY slot, probabilities into the FIFO
reg [1:0] d_slot;
reg [31:0] d_beat;
wire d_end = d_beat == nbeats[d_slot] - 32'd1;
reg d1_valid, d1_last, d1_bad, d1_err;
reg [{lm}:0] d1_keep;
reg [{dw}:0] d1_data;
reg [7:0] d1_m, d1_s, d1_d;
reg [15:0] d1_b;
reg [{rwm}:0] d1_r;
reg d2_valid, d2_last, d2_err;
reg [{lm}:0] d2_keep;
reg [{sw}:0] d2_s;                   // scores of the beat, 16 bits a lane
reg [{rwm}:0] d2_r;
{fifo_decls}reg [{ow}:0] d2_p;
always @(*) begin
    for (i = 0; i < {l}; i = i + 1)
        d2_p[{ob}*i +: {ob}] = prob(d2_s[16*i +: 16], d2_r);
end
{out_ports}
always @(posedge clk) begin
    // ingest
    if (w_fire) begin
        if (w_beat < {depth_lit}) mem[{{w_slot, w_beat[{awm}:0]}}] <= s_data;
        if (w_beat == 32'd0) begin
            cb[w_slot] <= in_b;
            cs[w_slot] <= in_s;
            cd[w_slot] <= in_dmax;
            negc[w_slot] <= {negc};
        end
        if (s_last) begin
            nbeats[w_slot] <= w_beat + 32'd1;
            lkeep[w_slot] <= s_keep;
            mx[w_slot] <= beat_max;
            // a full row may still end with an empty (keep 0) beat past the buffer
            over[w_slot] <= w_beat > {depth_lit} || (w_beat == {depth_lit} && s_keep != {lz});
            w_beat <= 32'd0;
            w_slot <= w_slot + 2'd1;
        end else begin
            w_beat <= w_beat == 32'hffffffff ? w_beat : w_beat + 32'd1;
            w_max <= beat_max;
        end
    end
    // score: issue a read, then sum the beat into Z
    b1_valid <= b_go;
    if (b_go) begin
        b1_data <= mem[{{b_slot, b_beat[{awm}:0]}}];
        b1_slot <= b_slot;
        b1_last <= b_end;
        b1_keep <= over[b_slot] ? {lz} : b_end ? lkeep[b_slot] : {lo};
        b_beat <= b_end ? 32'd0 : b_beat + 32'd1;
        if (b_end) b_slot <= b_slot + 2'd1;
    end
    if (b1_valid) begin
        z_acc <= b1_last ? {zz} : b_sum;
        if (b1_last) zs[b1_slot] <= b_sum;
    end
    // output: issue a read with the row's parameters, score, product, FIFO
    d1_valid <= d_go;
    if (d_go) begin
        d1_data <= mem[{{d_slot, d_beat[{awm}:0]}}];
        d1_m <= mx[d_slot];
        d1_b <= cb[d_slot];
        d1_s <= cs[d_slot];
        d1_d <= cd[d_slot];
        d1_r <= {recip_of};
        d1_last <= d_end;
        d1_keep <= d_end ? lkeep[d_slot] : {lo};
        d1_bad <= over[d_slot] || zs[d_slot] == {zz};
        d1_err <= over[d_slot] || zs[d_slot] == {zz} || negc[d_slot];
        d_beat <= d_end ? 32'd0 : d_beat + 32'd1;
        if (d_end) d_slot <= d_slot + 2'd1;
    end
    d2_valid <= d1_valid;
    if (d1_valid) begin
        for (i = 0; i < {l}; i = i + 1)
            d2_s[16*i +: 16] <= d1_bad || !d1_keep[i] ? 16'd0 : score(d1_data[8*i +: 8], d1_m, d1_b, d1_s, d1_d);
        d2_r <= d1_r;
        d2_last <= d1_last;
        d2_keep <= d1_keep;
        d2_err <= d1_err && d1_last;
    end
{fifo_seq}    if (rst) begin
        st <= 8'd0;
        w_slot <= 2'd0;
        w_beat <= 32'd0;
        b_slot <= 2'd0;
        b_beat <= 32'd0;
        b1_valid <= 1'b0;
        z_acc <= {zz};
        d_slot <= 2'd0;
        d_beat <= 32'd0;
        d1_valid <= 1'b0;
        d2_valid <= 1'b0;
        f_rd <= 2'd0;
        f_wr <= 2'd0;
        f_count <= 3'd0;
    end
end
"#,
        dw = 8 * l - 1,
        memd = 4 * (1 << aw) - 1,
        lm = l - 1,
        zwm = zw - 1,
        zpad = zw - 16,
        recip_decl = recip_decl,
        product = product,
        score_fn = score_fn,
        consts = consts,
        negc = match c.score {
            Score::Hccs => "{8'd0, in_s} * {8'd0, in_dmax} > in_b",
            Score::ExpLut { .. } => "1'b0",
        },
        l = l,
        recip_unit = recip_unit,
        rwm = recip_w - 1,
        sw = 16 * l - 1,
        fifo_decls = crate::stream::out_fifo_decls(2 + l + ob * l),
        out_ports = crate::stream::OUT_PORTS,
        fifo_seq = crate::stream::out_fifo_and_slots_seq("b1_valid && b1_last", "b1_slot"),
        ow = ob * l - 1,
        ob = ob,
        depth_lit = lit(32, depth as u64),
        awm = aw - 1,
        lz = lit(l, 0),
        lo = lit(l, (1u64 << l) - 1),
        zz = lit(zw, 0),
        recip_of = recip_of,
    )
}

/// DIV: restoring division of T*2^R by Z, `div_bits_per_cycle` quotient bits a cycle.
fn div_unit(c: &HccsConfig) -> String {
    let zw = c.z_bits();
    let qw = c.q_bits();
    let dpc = c.div_bits_per_cycle();
    let steps = qw.div_ceil(dpc);
    let cw = clog2(steps as u64 + 1).max(1);
    // The dividend T * 2^R, brought down MSB first; zero-padded at the top to a
    // whole number of steps (leading zero quotient bits fall off c_q).
    let dividend = ((1u64 << c.out_bits) - 1) << c.r;
    let nw = steps * dpc;
    format!(
        r#"// ---- reciprocal (DIV): rho = floor(T * 2^R / Z), {dpc} quotient bits a cycle
reg [1:0] c_slot;
reg c_busy;
reg [{cwm}:0] c_step;
reg [{zwm}:0] c_z;
reg [{zw}:0] c_rem;
reg [{nwm}:0] c_num;                  // dividend bits not yet brought down, MSB first
reg [{qwm}:0] c_q;
reg [{zw}:0] c_rem_n;
reg [{nwm}:0] c_num_n;
reg [{qwm}:0] c_q_n;
integer j;
always @(*) begin
    c_rem_n = c_rem;
    c_num_n = c_num;
    c_q_n = c_q;
    for (j = 0; j < {dpc}; j = j + 1) begin
        c_rem_n = {{c_rem_n[{zwm}:0], c_num_n[{nwm}]}};
        c_num_n = c_num_n << 1;
        c_q_n = c_q_n << 1;
        if (c_rem_n >= {{1'b0, c_z}}) begin
            c_rem_n = c_rem_n - {{1'b0, c_z}};
            c_q_n[0] = 1'b1;
        end
    end
end
// The last step writes its quotient straight away: load + {steps} steps a row.
wire recip_done = c_busy && c_step == {last_lit};
always @(posedge clk) begin
    if (!c_busy && st[2*c_slot +: 2] == SCORED) begin
        c_busy <= 1'b1;
        c_step <= {zero_c};
        c_z <= zs[c_slot];
        c_rem <= {zero_r};
        c_num <= {num};
        c_q <= {zero_q};
    end else if (c_busy && !recip_done) begin
        c_rem <= c_rem_n;
        c_num <= c_num_n;
        c_q <= c_q_n;
        c_step <= c_step + {one_c};
    end
    if (recip_done) begin
        rho[c_slot] <= c_z == {zero_z} ? {zero_q} : c_q_n;
        c_busy <= 1'b0;
        c_slot <= c_slot + 2'd1;
    end
    if (rst) begin
        c_busy <= 1'b0;
        c_slot <= 2'd0;
    end
end
"#,
        dpc = dpc,
        cwm = cw - 1,
        zwm = zw - 1,
        zw = zw,
        nwm = nw - 1,
        qwm = qw - 1,
        last_lit = lit(cw, steps as u64 - 1),
        steps = steps,
        zero_c = lit(cw, 0),
        one_c = lit(cw, 1),
        zero_r = lit(zw + 1, 0),
        num = lit(nw, dividend),
        zero_q = lit(qw, 0),
        zero_z = lit(zw, 0),
    )
}

/// CLB: k = floor(log2 Z), a priority encoder, one cycle.
fn clb_unit(c: &HccsConfig) -> String {
    let zw = c.z_bits();
    let kw = clog2(zw as u64).max(1);
    format!(
        r#"// ---- reciprocal (CLB): k = floor(log2 Z), one cycle
reg [1:0] c_slot;
reg [{kwm}:0] c_k;
integer j;
always @(*) begin
    c_k = {zero_k};
    for (j = 0; j < {zw}; j = j + 1)
        if (zs[c_slot][j]) c_k = j[{kwm}:0];
end
wire recip_done = st[2*c_slot +: 2] == SCORED;
always @(posedge clk) begin
    if (recip_done) begin
        klog[c_slot] <= c_k;
        c_slot <= c_slot + 2'd1;
    end
    if (rst) c_slot <= 2'd0;
end
"#,
        kwm = kw - 1,
        zero_k = lit(kw, 0),
        zw = zw,
    )
}

macro_rules! hccs_top {
    ($name:ident, $($const_port:ident : $w:literal),*) => {
        /// Ports of spec/interfaces.md; the engine body is generated Verilog.
        #[derive(LogicBlock)]
        pub struct $name<const DW: usize, const KW: usize, const OW: usize> {
            pub clk: Signal<In, Clock>,
            pub rst: Signal<In, Bit>,
            pub s_valid: Signal<In, Bit>,
            pub s_ready: Signal<Out, Bit>,
            pub s_data: Signal<In, Bits<DW>>,
            pub s_keep: Signal<In, Bits<KW>>,
            pub s_last: Signal<In, Bit>,
            $( pub $const_port: Signal<In, Bits<$w>>, )*
            pub m_valid: Signal<Out, Bit>,
            pub m_ready: Signal<In, Bit>,
            pub m_data: Signal<Out, Bits<OW>>,
            pub m_keep: Signal<Out, Bits<KW>>,
            pub m_last: Signal<Out, Bit>,
            pub m_err: Signal<Out, Bit>,
            _cfg: HccsConfig,
            _heads: Option<HeadTable>,
        }

        impl<const DW: usize, const KW: usize, const OW: usize> Logic for $name<DW, KW, OW> {
            fn update(&mut self) {}
            fn connect(&mut self) {
                self.s_ready.connect();
                self.m_valid.connect();
                self.m_data.connect();
                self.m_keep.connect();
                self.m_last.connect();
                self.m_err.connect();
            }
            fn hdl(&self) -> Verilog {
                Verilog::Custom(body(&self._cfg, self._heads.as_ref()))
            }
        }

        impl<const DW: usize, const KW: usize, const OW: usize> $name<DW, KW, OW> {
            fn new(cfg: HccsConfig, heads: Option<HeadTable>) -> Self {
                assert_eq!((DW, KW, OW), (8 * cfg.lanes as usize, cfg.lanes as usize, (cfg.out_bits * cfg.lanes) as usize));
                Self {
                    clk: Default::default(),
                    rst: Default::default(),
                    s_valid: Default::default(),
                    s_ready: Default::default(),
                    s_data: Default::default(),
                    s_keep: Default::default(),
                    s_last: Default::default(),
                    $( $const_port: Default::default(), )*
                    m_valid: Default::default(),
                    m_ready: Default::default(),
                    m_data: Default::default(),
                    m_keep: Default::default(),
                    m_last: Default::default(),
                    m_err: Default::default(),
                    _cfg: cfg,
                    _heads: heads,
                }
            }
        }
    };
}
hccs_top!(HccsSoftmax, s_b: 16, s_s: 8, s_dmax: 8);
hccs_top!(HccsSoftmaxHeads, s_head: 8);

/// rust-hdl port widths are types: one instantiation per (LANES, OUT_BITS).
macro_rules! dispatch {
    ($top:ident, $cfg:expr, $heads:expr, $name:expr, $params:expr, $lat:expr, $desc:expr, $( $l:literal ),* ) => {
        match ($cfg.lanes, $cfg.out_bits) {
            $( ($l, 8) => emit(&mut $top::<{ 8 * $l }, $l, { 8 * $l }>::new($cfg, $heads), $name, $params, $lat, $desc),
               ($l, 16) => emit(&mut $top::<{ 8 * $l }, $l, { 16 * $l }>::new($cfg, $heads), $name, $params, $lat, $desc), )*
            _ => unreachable!("validated"),
        }
    };
}

/// An HCCS engine (or, with `Score::ExpLut`, the exp-table baseline); with a
/// head table, constants come from it by `s_head`.
pub fn generate(name: &str, cfg: &HccsConfig, heads: Option<HeadTable>) -> anyhow::Result<Module> {
    let params = Params::hccs(*cfg, heads.as_ref().map(HeadTable::descriptor));
    params.validate()?;
    if let Some(t) = &heads {
        t.validate()?;
    }
    let what = match cfg.score {
        Score::Hccs => "HCCS int8 softmax surrogate".to_string(),
        Score::ExpLut { scale } => format!("int8 softmax baseline with an exp table (x = logit * {scale})"),
    };
    let desc = format!(
        "{what}, {} reciprocal, {} lanes, rows up to {}, uint{} out{}; latency is for a 1-beat row",
        match cfg.recip {
            Recip::Div => "DIV",
            Recip::Clb => "CLB (power-of-two)",
        },
        cfg.lanes,
        cfg.max_len,
        cfg.out_bits,
        if heads.is_some() { ", per-head constants by s_head" } else { "" }
    );
    let latency = cfg.latency(1);
    let cfg = *cfg;
    match heads {
        None => dispatch!(HccsSoftmax, cfg, None, name, params, latency, &desc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
        Some(t) => dispatch!(HccsSoftmaxHeads, cfg, Some(t.clone()), name, params, latency, &desc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn widths() {
        let c = HccsConfig { lanes: 4, max_len: 256, out_bits: 8, r: 15, recip: Recip::Div, score: Score::Hccs };
        assert_eq!(c.z_bits(), 24);
        assert_eq!(c.q_bits(), 23);
        assert_eq!(c.div_bits_per_cycle(), 4); // 6 steps
        assert_eq!(clog2(256), 8);
        assert_eq!(clog2(1), 0);
    }
    #[test]
    fn bad_parameters_are_refused() {
        let ok = HccsConfig { lanes: 4, max_len: 256, out_bits: 8, r: 15, recip: Recip::Div, score: Score::Hccs };
        assert!(ok.validate().is_ok());
        assert!(HccsConfig { lanes: 0, ..ok }.validate().is_err());
        assert!(HccsConfig { max_len: 250, ..ok }.validate().is_err());
        assert!(HccsConfig { out_bits: 12, ..ok }.validate().is_err());
    }
}
