# Target clock of every generated module: 200 MHz (5 ns). Used by `make synth`
# (yosys abc -D, in ps) and by static timing.
create_clock -name clk -period 5.0 [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
