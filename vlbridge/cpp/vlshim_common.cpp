// Compiled once, with the Verilator runtime (see vlbridge/src/driver.rs).
#include "vlshim.h"

std::mutex& vlshim_global_mutex() {
    static std::mutex m;
    return m;
}
