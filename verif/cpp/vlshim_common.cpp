// Compiled once, with the Verilator runtime (see verif/build.rs).
#include "vlshim.h"

std::mutex& vlshim_global_mutex() {
    static std::mutex m;
    return m;
}
