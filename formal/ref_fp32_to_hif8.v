// ref_fp32_to_hif8: reference FP32 -> HiF8 conversion for `make formal`, written by hand
// from shared/spec/hif8.md only (not from rtl-gen). Combinational.
//
//   h = HiF8 of FP32 f, TA rounding: nearest HiF8 value, ties away from zero (carry when
//   the first discarded bit is 1, no sticky bit).
//   - NaN -> 0x80. +-Inf -> +-Inf (0x6F / 0xEF), or +-32768 (0x6E / 0xEE) when sat = 1.
//   - Overflow: |x| >= 1.25 * 2^15 rounds into the Inf slot (E = 15, M = 1) or beyond:
//     +-Inf, or +-32768 when sat = 1.
//   - |x| < 2^-23 (including zeros and every FP32 subnormal) -> 0x00, whatever the sign.
//   - [2^-23, 2^-22) -> +-2^-22 (denormal M = 1).
//   - Denormal binades E = -22 .. -16 (values 2^(M-23)): [2^E, 1.5*2^E) -> 2^E,
//     [1.5*2^E, 2^(E+1)) -> 2^(E+1); from E = -16 that is 2^-15, the smallest normal.
//   - Normal |E| <= 15: mantissa bits kept: 3 for |E| <= 3, 2 for |E| in 4..7, 1 for
//     |E| in 8..15 (the precision of the binade the value lies in); a carry out of the
//     mantissa moves to 2^(E+1) with M = 0.
//   Encoding S | dot | Em | M: dot 0001 (E = 0, D = 0), 001 (|E| = 1, D = 1),
//   01 (|E| in 2..3, D = 2), 10 (|E| in 4..7, D = 3), 11 (|E| in 8..15, D = 4);
//   Em = exponent sign (1 = negative), then |E| - 2^(D-1) in D-1 bits.
//   Denormals: S | 0000 | M with value 2^(M-23).
module ref_fp32_to_hif8(input wire [31:0] f, input wire sat, output reg [7:0] h);
    wire s = f[31];
    wire [7:0] be = f[30:23];       // biased exponent
    wire [22:0] fr = f[22:0];       // fraction
    wire [7:0] inf_code = sat ? {s, 7'h6e} : {s, 7'h6f};

    integer e;      // unbiased exponent of the input binade
    integer e2;     // exponent after rounding
    integer ae;     // |e2|
    integer mb;     // mantissa bits kept in binade e
    reg [4:0] t;    // {1, kept bits} + first discarded bit
    reg carry;
    reg [2:0] m;    // rounded mantissa, right-aligned (mb bits)
    /* verilator lint_off UNUSEDSIGNAL */
    reg [31:0] v;   // scratch: low bits of an integer expression
    /* verilator lint_on UNUSEDSIGNAL */

    always @(*) begin
        e = {24'd0, be};
        e = e - 127;
        e2 = 0;
        ae = 0;
        mb = 0;
        t = 5'd0;
        carry = 1'b0;
        m = 3'd0;
        v = 32'd0;
        h = 8'h00;
        if (be == 8'hff) begin
            h = (fr != 23'd0) ? 8'h80 : inf_code;
        end else if (be == 8'h00 || e < -23) begin
            h = 8'h00;                                  // below 2^-23 (zeros, subnormals)
        end else if (e == -23) begin
            h = {s, 7'h01};                             // [2^-23, 2^-22) -> 2^-22
        end else if (e <= -16) begin
            e2 = e + (fr[22] ? 1 : 0);                  // >= 1.5 * 2^e rounds up
            if (e2 == -15)
                h = {s, 7'h7e};                         // 2^-15, smallest normal (dot 11, Em 1111, M 0)
            else begin
                v = e2 + 23;
                h = {s, 4'b0000, v[2:0]};               // 2^(M-23)
            end
        end else if (e >= 16) begin
            h = inf_code;                               // >= 2^16
        end else begin
            // normal binade, -15 <= e <= 15
            if (e >= -3 && e <= 3) mb = 3;
            else if (e >= -7 && e <= 7) mb = 2;
            else mb = 1;
            case (mb)
                3: begin t = {1'b0, 1'b1, fr[22:20]} + {4'd0, fr[19]}; carry = t[4]; m = t[2:0]; end
                2: begin t = {2'b0, 1'b1, fr[22:21]} + {4'd0, fr[20]}; carry = t[3]; m = {1'b0, t[1:0]}; end
                default: begin t = {3'b0, 1'b1, fr[22]} + {4'd0, fr[21]}; carry = t[2]; m = {2'b0, t[0]}; end
            endcase
            if (carry) begin
                e2 = e + 1;
                m = 3'd0;
            end else begin
                e2 = e;
            end
            ae = (e2 < 0) ? -e2 : e2;
            if (e2 > 15 || (e2 == 15 && m != 3'd0)) h = inf_code;   // the Inf slot or beyond
            else if (ae == 0) h = {s, 4'b0001, m[2:0]};
            else if (ae == 1) h = {s, 3'b001, e2 < 0, m[2:0]};
            else begin
                v = ae - ((ae <= 3) ? 2 : (ae <= 7) ? 4 : 8);    // |E| - 2^(D-1)
                if (ae <= 3) h = {s, 2'b01, e2 < 0, v[0], m[2:0]};
                else if (ae <= 7) h = {s, 2'b10, e2 < 0, v[1:0], m[1:0]};
                else h = {s, 2'b11, e2 < 0, v[2:0], m[0]};
            end
        end
    end
endmodule
