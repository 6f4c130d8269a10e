#!/bin/bash
# eq.sh OLD.v NEW.v MODULE [steps]: sequential equivalence of two versions of a module (k-induction, zero init)
set -eo pipefail
d=$(mktemp -d)
sed "s/\b$3/old_$3/g" "$1" > $d/old.v
sed "s/\b$3/new_$3/g" "$2" > $d/new.v
yosys -q -p "read_verilog $d/old.v; read_verilog $d/new.v; proc; memory; flatten; opt_clean; miter -equiv -flatten -make_assert old_$3 new_$3 m; hierarchy -top m; flatten; opt -fast; sat -verify -tempinduct -prove-asserts -set-init-zero -maxsteps ${4:-8} m" 2>&1 | tail -3
echo "EQUIV $3 OK"
