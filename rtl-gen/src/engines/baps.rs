//! `baps_softmax`: the BAPS softmax (spec/baps.md) as a streaming AXI-Stream
//! engine, bit-exact to the contract of `verif/src/golden/baps.rs`.
//!
//! Same architecture as `hccs_softmax`: four row slots rotate through four
//! units working on different rows at once, one beat a cycle each, no bubble
//! between rows:
//! - ingest: write the FP32 scores into a block buffer of 2 x BLOCK elements
//!   (a ring shared by all slots: the only FP32 storage), take m_b =
//!   ceil(block max) per block (max of per-lane ceilings, -Inf and
//!   t <= -32768 clamp to -32768) at the block's end, flag NaN / +Inf /
//!   t > 32767 / too long;
//! - block quantise + sum, one block behind ingest: read the finished block
//!   beat by beat, running integer max M (block order), h = HiF8_TA(t - m_b)
//!   of the exact difference (2^-24 fixed point, see `qdiff` below), written
//!   as 8-bit codes into the slot's code buffer and m_b (int16) into its
//!   block table: between the two passes the row is stored only as HiF8, 8 bits
//!   an element plus one int16 a block (the BAPS bandwidth / storage point);
//!   A = EXP2_FP16(h, m_b - M) (the `hif8_exp2` lookup and rounding, 0 if the
//!   shift is below -128), beat sum (a0+a1)+(a2+a3) in FP32 RNE, l += s, l
//!   rescaled by an exponent decrement (flush to 0) when M grows;
//! - recip: r = RNE_FP32(1/l), a restoring divider on the significand,
//!   13 quotient bits a cycle (load + 2 cycles);
//! - output: re-read the codes, A = EXP2_FP16(h, m_b - M_final),
//!   p = RNE_FP16(A * r) with subnormals, into a 4-beat output FIFO.
//!
//! m_b of a block is only known at its end, hence the quantiser runs one block
//! behind ingest: while it reads a finished block, ingest fills the ring behind
//! it, so no FP32 row buffer exists and each FP32 score is read exactly once, on
//! the fly. The ring (not two fixed halves) keeps streaming gapless when a row
//! ends mid-block: the quantiser, busy reading a whole block, lags ingest by at
//! most BLOCK elements + 1 beat, whatever the block lengths, and never stalls.
//!
//! FP16 or BF16 output (`out`), FP16 EXP2 and C = 0 are generated; BLOCK/LANES
//! must be a power of two.

use crate::emit::{emit, Module, Params};
use crate::exp2::{decomposed_lookup, round_verilog, term_width};
use crate::formats::FP16;
use crate::fp32_to_hif8::{pack_body, round_body};
use crate::hccs::clog2;
use crate::vtext::lit;
use rust_hdl::prelude::*;

/// The configuration is typed once in `ipconfig`.
pub use ipconfig::{BapsConfig, BapsOut};

pub const BAPS_DEFAULT: BapsConfig = BapsConfig::DEFAULT;

/// Quotient bits of the reciprocal divider retired per cycle, and steps.
const DIV_BITS: u32 = 13;
const DIV_STEPS: u32 = 2;

/// The engine's timing, derived from its configuration (the generator's
/// business, so not a method of `ipconfig::BapsConfig`).
pub trait BapsSizing {
    fn latency(&self) -> u32;
}

impl BapsSizing for BapsConfig {
    /// Cycles from a 1-beat row's beat taken to its output beat valid (no stalls).
    fn latency(&self) -> u32 {
        // ingest 1 (the 1-beat block is complete), quantise + sum issue + 3 stages,
        // recip load + steps, output issue + 2, FIFO.
        1 + 3 + 1 + DIV_STEPS + 1 + 3
    }
}

/// (exponent bits, mantissa bits) of the output format.
fn out_format(c: &BapsConfig) -> (u32, u32) {
    let f = c.out_format.format();
    (f.exp_bits, f.man_bits)
}

/// Verilog functions of the datapath (FP32 helpers, quantiser front end); the
/// output multiply rounds to the output format of `c`.
fn functions(c: &BapsConfig) -> String {
    let (oe, om) = out_format(c);
    let bias = (1u32 << (oe - 1)) - 1;
    r#"// The functions below work on values known to be >= 0 or normal: their sign bits,
// hidden bits and the bits a truncation drops are not read, hence:
/* verilator lint_off UNUSEDSIGNAL */
// ceil(t) as int16 for the block maximum: -Inf and t <= -32768 give -32768;
// NaN, +Inf and t > 32767 (flagged elsewhere, the row is bad) give 32767.
function [15:0] ceil16;
    input [31:0] t;
    reg [23:0] m24;
    reg [23:0] ip;
    reg [23:0] lowm;
    reg [7:0] sh;
    reg [16:0] c;
    begin
        m24 = {1'b1, t[22:0]};
        sh = 8'd150 - t[30:23];
        lowm = (24'd1 << sh[4:0]) - 24'd1;
        ip = m24 >> sh[4:0];
        c = {2'b0, ip[14:0]} + {16'd0, (m24 & lowm) != 24'd0};
        if (t[30:23] == 8'hff) ceil16 = t[31] && t[22:0] == 23'd0 ? 16'h8000 : 16'h7fff;
        else if (t[30:23] < 8'd127) ceil16 = (!t[31] && t[30:0] != 31'd0) ? 16'd1 : 16'd0;
        else if (t[30:23] >= 8'd142) ceil16 = t[31] ? 16'h8000 : 16'h7fff;
        else if (t[31]) ceil16 = 16'd0 - {1'b0, ip[14:0]};
        else ceil16 = c[15] ? 16'h7fff : c[15:0];
    end
endfunction

// d = t - m_b <= 0 as an FP32 value: the exact difference truncated toward zero at
// 2^-24 (m_b * 2^24 - ceil(t * 2^24)), then truncated to 24 significant bits. Every
// TA decision point has at most 5 significant bits and is a multiple of 2^-24, so the
// HiF8_TA cast of this value is that of the exact difference. -Inf and t <= -2^17
// give -Inf (HiF8 -Inf); NaN / +Inf / huge positive t (bad rows) too.
function [31:0] qdiff;
    input [31:0] t;
    input [15:0] mb;
    reg [7:0] ef;
    reg [7:0] sh;
    reg [23:0] m24;
    reg [43:0] tf;
    reg nz;
    reg [43:0] mbf;
    reg [43:0] mag;
    reg [5:0] p;
    reg [42:0] norm;
    integer j;
    begin
        ef = t[30:23] == 8'd0 ? 8'd1 : t[30:23];
        m24 = {t[30:23] != 8'd0, t[22:0]};
        sh = 8'd126 - ef;
        if (ef >= 8'd126) begin
            tf = {20'd0, m24} << (ef - 8'd126);
            nz = 1'b0;
        end else if (sh >= 8'd24) begin
            tf = 44'd0;
            nz = m24 != 24'd0;
        end else begin
            tf = {20'd0, m24 >> sh[4:0]};
            nz = (m24 & ((24'd1 << sh[4:0]) - 24'd1)) != 24'd0;
        end
        mbf = {{4{mb[15]}}, mb, 24'd0};
        mag = t[31] ? mbf + tf : mbf - tf - {43'd0, nz};
        p = 6'd0;
        for (j = 0; j < 43; j = j + 1)
            if (mag[j]) p = j[5:0];
        norm = mag[42:0] << (6'd42 - p);
        if (t[30:23] == 8'hff || t[30:23] >= 8'd144) qdiff = 32'hff800000;
        else if (mag == 44'd0) qdiff = 32'h80000000;
        else qdiff = {1'b1, {2'd0, p} + 8'd103, norm[41:19]};
    end
endfunction

// FP16 (>= 0, finite) -> FP32, exact.
function [31:0] h2f;
    input [15:0] y;
    reg [3:0] q;
    reg [10:0] fr;
    integer j;
    begin
        q = 4'd0;
        for (j = 0; j < 10; j = j + 1)
            if (y[j]) q = j[3:0];
        fr = {1'b0, y[9:0]} << (4'd10 - q);
        if (y[14:10] != 5'd0) h2f = {1'b0, {3'd0, y[14:10]} + 8'd112, y[9:0], 13'd0};
        else if (y[9:0] == 10'd0) h2f = 32'd0;
        else h2f = {1'b0, {4'd0, q} + 8'd103, fr[9:0], 13'd0};
    end
endfunction

// FP32 a + b, RNE, for a, b >= +0 each +0 or normal (the sum is then normal).
function [31:0] fadd;
    input [31:0] a;
    input [31:0] b;
    reg [31:0] x;
    reg [31:0] y;
    reg [7:0] d;
    reg [4:0] dc;
    reg [58:0] al;
    reg [26:0] ya;
    reg [27:0] s;
    reg [7:0] e;
    reg [23:0] m;
    reg g;
    reg stk;
    reg [31:0] r;
    begin
        if (a[30:0] >= b[30:0]) begin x = a; y = b; end else begin x = b; y = a; end
        d = x[30:23] - y[30:23];
        dc = d > 8'd31 ? 5'd31 : d[4:0];
        al = {1'b1, y[22:0], 3'd0, 32'd0} >> dc;
        ya = al[58:32] | {26'd0, al[31:0] != 32'd0};
        s = {2'b01, x[22:0], 3'd0} + {1'b0, ya};
        if (s[27]) begin
            e = x[30:23] + 8'd1;
            m = s[27:4];
            g = s[3];
            stk = s[2:0] != 3'd0;
        end else begin
            e = x[30:23];
            m = s[26:3];
            g = s[2];
            stk = s[1:0] != 2'd0;
        end
        r = {1'b0, e, m[22:0]} + {31'd0, g && (stk || m[0])};
        fadd = y[30:0] == 31'd0 ? x : r;
    end
endfunction

// l * 2^-d, an exponent decrement, +0 when the exponent would reach 0 or below.
function [31:0] rescale;
    input [31:0] l;
    input [16:0] d;
    begin
        if ({9'd0, l[30:23]} <= d) rescale = 32'd0;
        else rescale = {l[31], l[30:23] - d[7:0], l[22:0]};
    end
endfunction

// RNE_OUT(A * r) with subnormals (OUT = FP16 or BF16, set at generation):
// A FP16 >= 0 (<= 1), r FP32 normal, p <= 1 (never overflows).
function [15:0] pmul;
    input [15:0] a;
    input [31:0] r;
    reg [35:0] pr;
    reg [5:0] q;
    reg [11:0] bexp;
    reg [11:0] s;
    reg [5:0] sc;
    reg [35:0] sig;
    reg [35:0] low;
    reg g;
    reg stk;
    reg [15:0] base;
    integer j;
    begin
        pr = {25'd0, a[14:10] != 5'd0, a[9:0]} * {12'd0, 1'b1, r[22:0]};
        q = 6'd0;
        for (j = 0; j < 36; j = j + 1)
            if (pr[j]) q = j[5:0];
        // biased output exponent of the product: q + max(ea, 1) - 25 + er - 150 + BIAS
        bexp = {6'd0, q} + {7'd0, a[14:10] == 5'd0 ? 5'd1 : a[14:10]} + {4'd0, r[30:23]} - 12'd@K@;
        if (!bexp[11] && bexp != 12'd0) begin
            s = {6'd0, q} - 12'd@M@;
            base = {1'b0, bexp[@EH@:0] - @E@'d1, @M@'d0};
        end else begin
            s = {6'd0, q} - 12'd@M@ + (12'd1 - bexp);
            base = 16'd0;
        end
        sc = s > 12'd36 ? 6'd36 : s[5:0];
        sig = pr >> sc;
        low = pr & ((36'd1 << sc) - 36'd1);
        g = sc != 6'd0 && low[sc - 6'd1];
        stk = sc > 6'd1 && (low & ((36'd1 << (sc - 6'd1)) - 36'd1)) != 36'd0;
        if (pr == 36'd0) pmul = 16'd0;
        else pmul = base + sig[15:0] + {15'd0, g && (stk || sig[0])};
    end
endfunction
/* verilator lint_on UNUSEDSIGNAL */
"#
    .replace("@K@", &(175 - bias).to_string())
    .replace("@EH@", &(oe - 1).to_string())
    .replace("@E@", &oe.to_string())
    .replace("@M@", &om.to_string())
}

fn body(c: &BapsConfig, name: &str) -> String {
    let l = c.lanes;
    let depth = c.max_len.div_ceil(l);
    let aw = clog2(depth as u64).max(1);
    let bpb = c.block / l;
    let lb = clog2(bpb as u64);
    let nblk = c.max_len.div_ceil(c.block);
    let bw = clog2(nblk as u64).max(1);
    let tw = term_width(&FP16);
    let bfirst = |beat: &str| if lb == 0 { "1'b1".to_string() } else { format!("{beat}[{}:0] == {}", lb - 1, lit(lb, 0)) };
    let blk = |beat: &str| format!("{beat}[{}:{}]", lb + bw - 1, lb);
    let last_in_block = if lb == 0 { "1'b1".to_string() } else { format!("w_beat[{}:0] == {}", lb - 1, lit(lb, (1 << lb) - 1)) };
    // Beat-sum tree: pad to a power of two with +0, pairs level by level.
    let n2 = l.next_power_of_two();
    let mut tree = String::new();
    tree += &format!("wire [{}:0] t0;\n", 32 * n2 - 1);
    for i in 0..n2 {
        if i < l {
            tree += &format!("assign t0[{}:{}] = b3_a[{}:{}];\n", 32 * i + 31, 32 * i, 32 * i + 31, 32 * i);
        } else {
            tree += &format!("assign t0[{}:{}] = 32'd0;\n", 32 * i + 31, 32 * i);
        }
    }
    let mut width = n2;
    let mut lvl = 0;
    while width > 1 {
        let nw = width / 2;
        tree += &format!("wire [{}:0] t{};\n", 32 * nw - 1, lvl + 1);
        for i in 0..nw {
            tree += &format!(
                "assign t{n}[{}:{}] = fadd(t{lvl}[{}:{}], t{lvl}[{}:{}]);\n",
                32 * i + 31,
                32 * i,
                64 * i + 31,
                64 * i,
                64 * i + 63,
                64 * i + 32,
                n = lvl + 1,
                lvl = lvl
            );
        }
        width = nw;
        lvl += 1;
    }
    tree += &format!("wire [31:0] b3_s = t{lvl}[31:0];\n");
    format!(
        r#"// ---- row slots: 4 rows in flight.
// Slot states: FREE (also while ingest fills it: the quantiser follows one block
// behind and writes its codes) -> FULL (all beats in) -> SCORED (l known) ->
// READY (r known) -> FREE.
localparam [1:0] FREE = 2'd0, FULL = 2'd1, SCORED = 2'd2, READY = 2'd3;
reg [{cw}:0] cmem [0:{memd}];           // row buffers: HiF8 codes h (written by the quantiser)
reg [15:0] mbmem [0:{mbd}];             // m_b per block (int16, written by the quantiser)
reg [7:0] st;                        // 2 state bits per slot
reg [31:0] nbeats [0:3];             // beats of the row (the output has as many)
reg [{lm}:0] lkeep [0:3];            // keep of its last beat
reg bad_in [0:3];                    // too long, NaN, +Inf or t > 32767
reg [15:0] mfin [0:3];               // final running maximum M
reg [31:0] zs [0:3];                 // l (FP32)
reg [31:0] rr [0:3];                 // r = RNE(1/l) (FP32)

{functions}
// ---- block buffer: a ring of 2 x BLOCK FP32 scores, written by ingest, read by
// the quantiser once a block is complete. Per beat it also holds {{row ends here,
// block ends here, keep}}; the m_b of complete, not yet fully read blocks wait in
// a 4-entry queue (the quantiser reads the oldest).
reg [{dw}:0] bbuf [0:{bbd}];
reg [{sw}:0] bside [0:{bbd}];
reg [{pw}:0] r_wp, r_rp;              // ring pointers, one wrap bit above the address
wire r_full = r_wp == {{!r_rp[{pw}], r_rp[{pwm}:0]}};
reg [15:0] qmb [0:3];
reg [1:0] q_wp, q_rp;
reg [2:0] q_count;                   // complete blocks not yet fully read

// ---- ingest
wire [{lm}:0] keep_in = s_keep;       // indexable also when LANES = 1 (a scalar port)
reg [1:0] w_slot;
reg [31:0] w_beat;
reg [15:0] w_bmax;
reg w_bad;
// The slot must be free (its code buffer is written one block later); ring and
// queue have room (safety only: the quantiser never falls that far behind).
wire w_free = st[2*w_slot +: 2] == FREE && !r_full && q_count != 3'd4;
always @(*) s_ready = w_free;
wire w_fire = s_valid && w_free;
wire w_bend = s_last || {last_in_block};
reg [15:0] beat_max;
reg beat_bad;
reg [15:0] lc;
integer i;
always @(*) begin
    beat_max = {bfirst_w} ? 16'h8000 : w_bmax;
    beat_bad = w_beat == 32'd0 ? 1'b0 : w_bad;
    for (i = 0; i < {l}; i = i + 1) begin
        lc = ceil16(s_data[32*i +: 32]);
        if (keep_in[i]) begin
            if ($signed(lc) > $signed(beat_max)) beat_max = lc;
            // NaN, +Inf, t > 32767 (0x46fffe00 = 32767.0)
            if ((s_data[32*i+30 -: 8] == 8'hff && !(s_data[32*i+31] && s_data[32*i +: 23] == 23'd0))
                || (!s_data[32*i+31] && s_data[32*i +: 31] > 31'h46fffe00)) beat_bad = 1'b1;
        end
    end
    // a full row may still end with an empty (keep 0) beat past the buffer
    if (w_beat > {depth_lit} || (w_beat == {depth_lit} && keep_in != {lz})) beat_bad = 1'b1;
end

// ---- block quantise + sum: read a full half beat by beat (rows in ingest
// order, slot after slot); quantise, EXP2, beat sum, l
reg [1:0] b_slot;
reg [31:0] b_beat;                   // beat in the row (codes address, block index)
reg [15:0] b_m;                      // running maximum M of the row
wire b_go = q_count != 3'd0;         // the beat at r_rp is in a complete block
wire [{sw}:0] b_side = bside[r_rp[{pwm}:0]];
wire b_end = b_side[{sw}];           // last beat of the row (and of its block)
wire b_bend = b_side[{swm}];         // last beat of the block
wire b_rfirst = b_beat == 32'd0;
// An empty last beat holds no element: it must not overwrite codes or m_b (past
// MAX_LEN its address wraps onto the row's first beat and block).
wire b_empty = b_end && b_side[{lm}:0] == {lz};
wire [15:0] b_mb = qmb[q_rp];
wire [15:0] b_mold = b_rfirst ? 16'h8000 : b_m;
wire b_grow = ({bfirst_b}) && $signed(b_mb) > $signed(b_mold);
wire [15:0] b_mnew = b_grow ? b_mb : b_mold;
reg b1_valid, b1_last, b1_first;
reg [1:0] b1_slot;
reg [{awm}:0] b1_beat;
reg [{lm}:0] b1_keep;
reg [{dw}:0] b1_data;
reg [15:0] b1_mb;
reg [16:0] b1_k, b1_resc;
wire [{qw}:0] b1_q;                  // t - m_b as FP32, per lane
wire [{mw}:0] b1_mid;
wire [{cw}:0] b1_h;
genvar g;
generate for (g = 0; g < {l}; g = g + 1) begin : quant
    assign b1_q[32*g +: 32] = qdiff(b1_data[32*g +: 32], b1_mb);
    {name}_q_round u_round (.f(b1_q[32*g +: 32]), .sat(1'b0), .mid(b1_mid[18*g +: 18]));
    {name}_q_pack u_pack (.mid(b1_mid[18*g +: 18]), .h(b1_h[8*g +: 8]));
end endgenerate
reg b2_valid, b2_last, b2_first;
reg [1:0] b2_slot;
reg [{lm}:0] b2_keep;
reg [{cw}:0] b2_h;
reg [16:0] b2_k, b2_resc;
// shift k = m_b - M in [-128, 0] goes to the EXP2 port; below -128 A = 0
wire b2_kok = b2_k[16:7] == 10'h3ff || b2_k[16:7] == 10'h000;
wire [{termw}:0] b2_term;
wire [{hw}:0] b2_y;
generate for (g = 0; g < {l}; g = g + 1) begin : sexp
    {name}_exp_lookup u_lookup (.x(b2_h[8*g +: 8]), .term(b2_term[{tw}*g +: {tw}]));
    {name}_exp_round u_round (.term(b2_term[{tw}*g +: {tw}]), .shift(b2_k[7:0]), .y(b2_y[16*g +: 16]));
end endgenerate
reg b3_valid, b3_last, b3_first;
reg [1:0] b3_slot;
reg [{aw32}:0] b3_a;
reg [16:0] b3_resc;
{tree}reg [31:0] l_acc;
wire [31:0] l_base = b3_first ? 32'd0 : rescale(l_acc, b3_resc);
wire [31:0] l_new = fadd(l_base, b3_s);

// ---- reciprocal: r = RNE_FP32(1/l), l normal in [2^-1, MAX_LEN]; {div_bits} quotient bits a cycle
reg [1:0] c_slot;
reg c_busy;
reg c_step;
reg [23:0] c_m;                      // significand of l
reg [7:0] c_e;                       // biased exponent of l
reg [24:0] c_rem;
reg [{nqm}:0] c_qq;
reg [24:0] c_rem_n;
reg [{nqm}:0] c_qq_n;
integer j;
always @(*) begin
    c_rem_n = c_rem;
    c_qq_n = c_qq;
    for (j = 0; j < {div_bits}; j = j + 1) begin
        c_rem_n = c_rem_n << 1;
        c_qq_n = c_qq_n << 1;
        if (c_rem_n >= {{1'b0, c_m}}) begin
            c_rem_n = c_rem_n - {{1'b0, c_m}};
            c_qq_n[0] = 1'b1;
        end
    end
end
// Q = floor(2^({nq}+23) / m) in [2^{nqm}, 2^{nq}) for m > 2^23: 24 bits, guard, sticky.
wire c_guard = c_qq_n[{gpos}];
wire c_sticky = c_qq_n[{gpos1}:0] != {zs1} || c_rem_n != 25'd0;
wire [31:0] c_r = c_m[22:0] == 23'd0 ? {{1'b0, 8'd254 - c_e, 23'd0}}
    : {{1'b0, 8'd253 - c_e, c_qq_n[{mhi}:{gpos1b}]}} + {{31'd0, c_guard && (c_sticky || c_qq_n[{gpos1b}])}};
wire recip_done = c_busy && c_step;

// ---- output: read a READY slot's codes, EXP2 with the final M, times r (rounded to
// the output format), into the FIFO
reg [1:0] d_slot;
reg [31:0] d_beat;
wire d_end = d_beat == nbeats[d_slot] - 32'd1;
wire [15:0] d_mb = mbmem[{{d_slot, {blk_d}}}];
reg d1_valid, d1_last, d1_bad;
reg [{lm}:0] d1_keep;
reg [{cw}:0] d1_h;
reg [16:0] d1_k;
reg [31:0] d1_r;
wire d1_kok = d1_k[16:7] == 10'h3ff || d1_k[16:7] == 10'h000;
wire [{termw}:0] d1_term;
wire [{hw}:0] d1_y;
generate for (g = 0; g < {l}; g = g + 1) begin : oexp
    {name}_exp_lookup u_lookup (.x(d1_h[8*g +: 8]), .term(d1_term[{tw}*g +: {tw}]));
    {name}_exp_round u_round (.term(d1_term[{tw}*g +: {tw}]), .shift(d1_k[7:0]), .y(d1_y[16*g +: 16]));
end endgenerate
reg d2_valid, d2_last, d2_err;
reg [{lm}:0] d2_keep;
reg [{hw}:0] d2_a;                   // A per lane (FP16), 0 for bad rows and empty lanes
reg [31:0] d2_r;
{fifo_decls}reg [{hw}:0] d2_p;
always @(*) begin
    for (i = 0; i < {l}; i = i + 1)
        d2_p[16*i +: 16] = pmul(d2_a[16*i +: 16], d2_r);
end
{out_ports}
always @(posedge clk) begin
    // ingest
    if (w_fire) begin
        // Every beat goes through the block buffer, also past MAX_LEN: such a row
        // is bad (all zeros out) and its codes wrap inside its own slot.
        bbuf[r_wp[{pwm}:0]] <= s_data;
        bside[r_wp[{pwm}:0]] <= {{s_last, w_bend, s_keep}};
        r_wp <= r_wp + {pone};
        if (w_bend) begin
            qmb[q_wp] <= beat_max;
            q_wp <= q_wp + 2'd1;
        end
        w_bmax <= beat_max;
        w_bad <= beat_bad;
        if (s_last) begin
            nbeats[w_slot] <= w_beat + 32'd1;
            lkeep[w_slot] <= s_keep;
            bad_in[w_slot] <= beat_bad;
            w_beat <= 32'd0;
            w_slot <= w_slot + 2'd1;
        end else begin
            w_beat <= w_beat == 32'hffffffff ? w_beat : w_beat + 32'd1;
        end
    end
    // quantise + sum: issue a block-buffer read with m_b and the running maximum
    b1_valid <= b_go;
    if (b_go) begin
        b1_data <= bbuf[r_rp[{pwm}:0]];
        r_rp <= r_rp + {pone};
        if (({bfirst_b}) && !b_empty) mbmem[{{b_slot, {blk_b}}}] <= b_mb;
        b1_slot <= b_slot;
        b1_beat <= b_beat[{awm}:0];
        b1_last <= b_end;
        b1_first <= b_rfirst;
        b1_keep <= b_end ? b_side[{lm}:0] : {lo};
        b1_mb <= b_mb;
        b1_k <= {{b_mb[15], b_mb}} - {{b_mnew[15], b_mnew}};
        b1_resc <= b_grow && !b_rfirst ? {{b_mnew[15], b_mnew}} - {{b_mold[15], b_mold}} : 17'd0;
        b_m <= b_mnew;
        if (b_end) mfin[b_slot] <= b_mnew;
        b_beat <= b_end ? 32'd0 : b_beat + 32'd1;
        if (b_end) b_slot <= b_slot + 2'd1;
        // the block's last beat retires its m_b
        if (b_bend) q_rp <= q_rp + 2'd1;
    end
    q_count <= q_count + {{2'd0, w_fire && w_bend}} - {{2'd0, b_go && b_bend}};
    // quantise: codes into the code buffer
    b2_valid <= b1_valid;
    if (b1_valid) begin
        if (b1_keep != {lz}) cmem[{{b1_slot, b1_beat}}] <= b1_h;
        b2_h <= b1_h;
        b2_k <= b1_k;
        b2_resc <= b1_resc;
        b2_first <= b1_first;
        b2_last <= b1_last;
        b2_keep <= b1_keep;
        b2_slot <= b1_slot;
    end
    // EXP2 -> FP32 A
    b3_valid <= b2_valid;
    if (b2_valid) begin
        for (i = 0; i < {l}; i = i + 1)
            b3_a[32*i +: 32] <= b2_kok && b2_keep[i] ? h2f(b2_y[16*i +: 16]) : 32'd0;
        b3_resc <= b2_resc;
        b3_first <= b2_first;
        b3_last <= b2_last;
        b3_slot <= b2_slot;
    end
    // beat sum, rescale, accumulate
    if (b3_valid) begin
        l_acc <= l_new;
        if (b3_last) zs[b3_slot] <= l_new;
    end
    // reciprocal
    if (!c_busy && st[2*c_slot +: 2] == SCORED) begin
        c_busy <= 1'b1;
        c_step <= 1'b0;
        c_m <= {{1'b1, zs[c_slot][22:0]}};
        c_e <= zs[c_slot][30:23];
        c_rem <= 25'h0800000;
        c_qq <= {zq};
    end else if (c_busy && !recip_done) begin
        c_rem <= c_rem_n;
        c_qq <= c_qq_n;
        c_step <= 1'b1;
    end
    if (recip_done) begin
        rr[c_slot] <= c_r;
        c_busy <= 1'b0;
        c_slot <= c_slot + 2'd1;
    end
    // output: issue a read with the row's M, r and error
    d1_valid <= d_go;
    if (d_go) begin
        d1_h <= cmem[{{d_slot, d_beat[{awm}:0]}}];
        d1_k <= {{d_mb[15], d_mb}} - {{mfin[d_slot][15], mfin[d_slot]}};
        d1_r <= rr[d_slot];
        d1_last <= d_end;
        d1_keep <= d_end ? lkeep[d_slot] : {lo};
        d1_bad <= bad_in[d_slot] || zs[d_slot] == 32'd0;
        d_beat <= d_end ? 32'd0 : d_beat + 32'd1;
        if (d_end) d_slot <= d_slot + 2'd1;
    end
    d2_valid <= d1_valid;
    if (d1_valid) begin
        for (i = 0; i < {l}; i = i + 1)
            d2_a[16*i +: 16] <= d1_bad || !d1_keep[i] || !d1_kok ? 16'd0 : d1_y[16*i +: 16];
        d2_r <= d1_r;
        d2_last <= d1_last;
        d2_keep <= d1_keep;
        d2_err <= d1_bad && d1_last;
    end
{fifo_seq}    if (rst) begin
        st <= 8'd0;
        w_slot <= 2'd0;
        w_beat <= 32'd0;
        b_slot <= 2'd0;
        b_beat <= 32'd0;
        r_wp <= {pzero};
        r_rp <= {pzero};
        q_wp <= 2'd0;
        q_rp <= 2'd0;
        q_count <= 3'd0;
        b1_valid <= 1'b0;
        b2_valid <= 1'b0;
        b3_valid <= 1'b0;
        c_busy <= 1'b0;
        c_slot <= 2'd0;
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
        dw = 32 * l - 1,
        cw = 8 * l - 1,
        memd = 4 * (1 << aw) - 1,
        mbd = 4 * (1 << bw) - 1,
        lm = l - 1,
        functions = functions(c),
        bfirst_w = bfirst("w_beat"),
        bfirst_b = bfirst("b_beat"),
        blk_b = blk("b_beat"),
        blk_d = blk("d_beat"),
        bbd = 2 * bpb - 1,
        sw = l + 1,
        swm = l,
        pw = lb + 1,
        pwm = lb,
        pone = lit(lb + 2, 1),
        pzero = lit(lb + 2, 0),
        last_in_block = last_in_block,
        l = l,
        depth_lit = lit(32, depth as u64),
        awm = aw - 1,
        qw = 32 * l - 1,
        mw = 18 * l - 1,
        name = name,
        termw = tw * l - 1,
        tw = tw,
        hw = 16 * l - 1,
        aw32 = 32 * l - 1,
        tree = tree,
        div_bits = DIV_BITS,
        nq = DIV_BITS * DIV_STEPS,
        nqm = DIV_BITS * DIV_STEPS - 1,
        gpos = DIV_BITS * DIV_STEPS - 25,
        gpos1 = DIV_BITS * DIV_STEPS - 26,
        gpos1b = DIV_BITS * DIV_STEPS - 24,
        mhi = DIV_BITS * DIV_STEPS - 2,
        zq = lit(DIV_BITS * DIV_STEPS, 0),
        zs1 = lit(DIV_BITS * DIV_STEPS - 25, 0),
        fifo_decls = crate::stream::out_fifo_decls(2 + l + 16 * l),
        out_ports = crate::stream::OUT_PORTS,
        fifo_seq = crate::stream::out_fifo_and_slots_seq("b3_valid && b3_last", "b3_slot"),
        lo = lit(l, (1u64 << l) - 1),
        lz = lit(l, 0),
    )
}

/// Helper modules appended to the IP's file: the fp32_to_hif8 round / pack
/// stages (the TA cast) and the hif8_exp2 lookup / round stages (FP16).
fn helpers(name: &str) -> String {
    let tw = term_width(&FP16);
    let indent = |s: String| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    format!(
        "\n\nmodule {name}_q_round(f,sat,mid);\n    input wire  [31:0] f;\n    input wire  sat;\n    output reg  [17:0] mid;\n{}endmodule // {name}_q_round\n\n\n\
module {name}_q_pack(mid,h);\n    input wire  [17:0] mid;\n    output reg  [7:0] h;\n{}endmodule // {name}_q_pack\n\n\n\
module {name}_exp_lookup(x,term);\n    input wire  [7:0] x;\n    output reg  [{}:0] term;\n{}endmodule // {name}_exp_lookup\n\n\n\
module {name}_exp_round(term,shift,y);\n    input wire  [{}:0] term;\n    input wire  [7:0] shift;\n    output reg  [15:0] y;\n{}endmodule // {name}_exp_round\n",
        indent(round_body()),
        indent(pack_body()),
        tw - 1,
        indent(decomposed_lookup(&FP16)),
        tw - 1,
        indent(round_verilog(&FP16)),
    )
}

/// Ports of spec/interfaces.md; the engine body is generated Verilog.
#[derive(LogicBlock)]
pub struct BapsSoftmax<const DW: usize, const KW: usize, const OW: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub s_valid: Signal<In, Bit>,
    pub s_ready: Signal<Out, Bit>,
    pub s_data: Signal<In, Bits<DW>>,
    pub s_keep: Signal<In, Bits<KW>>,
    pub s_last: Signal<In, Bit>,
    pub m_valid: Signal<Out, Bit>,
    pub m_ready: Signal<In, Bit>,
    pub m_data: Signal<Out, Bits<OW>>,
    pub m_keep: Signal<Out, Bits<KW>>,
    pub m_last: Signal<Out, Bit>,
    pub m_err: Signal<Out, Bit>,
    _cfg: BapsConfig,
    _name: String,
}

impl<const DW: usize, const KW: usize, const OW: usize> Logic for BapsSoftmax<DW, KW, OW> {
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
        Verilog::Custom(body(&self._cfg, &self._name))
    }
}

impl<const DW: usize, const KW: usize, const OW: usize> BapsSoftmax<DW, KW, OW> {
    fn new(cfg: BapsConfig, name: &str) -> Self {
        assert_eq!((DW, KW, OW), (32 * cfg.lanes as usize, cfg.lanes as usize, 16 * cfg.lanes as usize));
        Self {
            clk: Default::default(),
            rst: Default::default(),
            s_valid: Default::default(),
            s_ready: Default::default(),
            s_data: Default::default(),
            s_keep: Default::default(),
            s_last: Default::default(),
            m_valid: Default::default(),
            m_ready: Default::default(),
            m_data: Default::default(),
            m_keep: Default::default(),
            m_last: Default::default(),
            m_err: Default::default(),
            _cfg: cfg,
            _name: name.to_string(),
        }
    }
}

macro_rules! dispatch {
    ($cfg:expr, $name:expr, $params:expr, $lat:expr, $desc:expr, $( $l:literal ),* ) => {
        match $cfg.lanes {
            $( $l => emit(&mut BapsSoftmax::<{ 32 * $l }, $l, { 16 * $l }>::new($cfg, $name), $name, $params, $lat, $desc), )*
            _ => unreachable!("validated"),
        }
    };
}

pub fn generate(name: &str, cfg: &BapsConfig) -> anyhow::Result<Module> {
    cfg.validate()?;
    let params = Params::BapsSoftmax(*cfg);
    let desc = format!(
        "BAPS softmax of FP32 base-2 scores (block-aware HiF8 rescaling, FP16 EXP2), {} lanes, BLOCK {}, rows up to {}, {} out; latency is for a 1-beat row",
        cfg.lanes,
        cfg.block,
        cfg.max_len,
        cfg.out_format.name().to_uppercase()
    );
    let cfg = *cfg;
    let mut m = dispatch!(cfg, name, params, cfg.latency(), &desc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)?;
    let tail = "/* verilator lint_on DECLFILENAME */\n";
    let head = m.verilog.strip_suffix(tail).expect("emit's file trailer").to_string();
    m.verilog = format!("{}{}{tail}", head.trim_end(), helpers(name));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bad_parameters_are_refused() {
        assert!(BAPS_DEFAULT.validate().is_ok());
        assert!(BapsConfig { out_format: BapsOut::Bf16, ..BAPS_DEFAULT }.validate().is_ok());
        assert!(BapsConfig { block: 24, ..BAPS_DEFAULT }.validate().is_err());
        assert!(BapsConfig { max_offset: 2, ..BAPS_DEFAULT }.validate().is_err());
        assert!(BapsConfig { max_len: 250, ..BAPS_DEFAULT }.validate().is_err());
    }
}
