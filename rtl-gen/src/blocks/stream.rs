//! Verilog shared by the streaming engines (`hccs`, `baps`): the 4-beat output
//! FIFO that absorbs `m_ready` stalls, fed by a two-stage output pipeline
//! (`d1`, `d2`) under credit control, and the row-slot state updates.

/// Declarations: the FIFO of {err, last, keep, data} beats of `fw` bits, the
/// output unit's issue condition `d_go` (a READY slot and room for every beat
/// in flight plus this one), and the `m_*` ports driven from the FIFO head.
pub fn out_fifo_decls(fw: u32) -> String {
    format!(
        "// FIFO of 4 output beats: {{err, last, keep, data}}
localparam FW = {fw};
reg [FW-1:0] fifo [0:3];
reg [1:0] f_rd, f_wr;
reg [2:0] f_count;
wire f_pop = f_count != 3'd0 && m_ready;
// Issue only with room for every beat in flight (d1, d2) plus this one.
wire d_go = st[2*d_slot +: 2] == READY && ({{1'b0, f_count}} + {{3'd0, d1_valid}} + {{3'd0, d2_valid}}) < 4'd4;
"
    )
}

/// Continuous assignment of the `m_*` ports from the FIFO head.
pub const OUT_PORTS: &str = "always @(*) begin
    m_valid = f_count != 3'd0;
    {m_err, m_last, m_keep, m_data} = fifo[f_rd];
end
";

/// Clocked part: push the `d2` beat, pop on `m_ready`, and move the slots
/// (each unit moves only slots in its own state, so no two units ever write
/// the same slot in one cycle). `scored` is the condition and slot of the
/// unit that turns a FULL slot SCORED.
pub fn out_fifo_and_slots_seq(scored_valid: &str, scored_slot: &str) -> String {
    format!(
        "    if (d2_valid) begin
        fifo[f_wr] <= {{d2_err, d2_last, d2_keep, d2_p}};
        f_wr <= f_wr + 2'd1;
    end
    if (f_pop) f_rd <= f_rd + 2'd1;
    f_count <= f_count + {{2'd0, d2_valid}} - {{2'd0, f_pop}};
    // slot states: each unit moves only slots in its own state, so no two
    // units ever write the same slot in one cycle
    if (w_fire && s_last) st[2*w_slot +: 2] <= FULL;
    if ({scored_valid}) st[2*{scored_slot} +: 2] <= SCORED;
    if (recip_done) st[2*c_slot +: 2] <= READY;
    if (d_go && d_end) st[2*d_slot +: 2] <= FREE;
"
    )
}
