module tiny (
    input  wire         clk,
    input  wire         rst_n,
    input  wire [11:0]  a,
    input  wire [63:0]  b,
    input  wire [99:0]  w,
    output reg  [31:0]  y,
    output wire [64:0]  z
);
    always @(posedge clk) if (!rst_n) y <= 0; else y <= y + {20'd0, a};
    assign z = {1'b0, b} ^ w[64:0];
endmodule
