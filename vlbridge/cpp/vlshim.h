// Common part of the C ABI shims that vlbridge (src/shim.rs, run by
// verif/build.rs) generates for every verilated module (one VerilatedContext
// per model instance).
// Every generated shim includes this header; vlshim_common.cpp holds the
// one definition shared by all modules.
#pragma once

#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

#include <cstdint>
#include <mutex>

// Serialises model construction and destruction: Verilator's X-initial random
// generator is thread-local but re-seeded through a process-wide epoch, so a
// seed only reproduces the same initial values if no other model is being
// seeded at the same time.
std::mutex& vlshim_global_mutex();

template <class M>
struct VlShim {
    VerilatedContext* ctx = nullptr;
    M* top = nullptr;
#if VM_TRACE
    VerilatedVcdC* tfp = nullptr;
#endif
    uint64_t cycle = 0;  // rising edges so far (trace time base)
};

// A non-zero 32-bit Verilator seed from a 64-bit one (0 would mean "seed from
// the system clock", which is never what a test wants).
static inline int vlshim_fold_seed(uint64_t seed) {
    uint64_t x = seed + 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    uint32_t s = static_cast<uint32_t>(x ^ (x >> 32));
    if (s == 0) s = 0x5EED5EEDu;
    return static_cast<int>(s);
}

// Point this thread's Verilator context at ours (only $finish, $time and
// friends use it during eval; the store happens only when the thread switches
// models).
static inline void vlshim_use_ctx(VerilatedContext* ctx) {
    if (VL_UNLIKELY(Verilated::threadContextp() != ctx)) Verilated::threadContextp(ctx);
}

template <class M>
VlShim<M>* vlshim_create(uint64_t seed) {
    std::lock_guard<std::mutex> lock{vlshim_global_mutex()};
    auto* s = new VlShim<M>();
    s->ctx = new VerilatedContext;  // also becomes this thread's context
    Verilated::threadContextp(s->ctx);
    s->ctx->randReset(2);  // X-initial / X-assign values: random, from the seed
    s->ctx->randSeed(vlshim_fold_seed(seed));
#if VM_TRACE
    s->ctx->traceEverOn(true);
#endif
    s->top = new M{s->ctx, "TOP"};
    return s;
}

template <class M>
void vlshim_destroy(VlShim<M>* s) {
    if (!s) return;
    std::lock_guard<std::mutex> lock{vlshim_global_mutex()};
    vlshim_use_ctx(s->ctx);
#if VM_TRACE
    if (s->tfp) {
        s->tfp->close();
        delete s->tfp;
        s->tfp = nullptr;
    }
#endif
    s->top->final();
    delete s->top;
    // Never leave Verilator's thread/last context pointers dangling.
    if (Verilated::threadContextp() == s->ctx)
        Verilated::threadContextp(Verilated::defaultContextp());
    if (Verilated::lastContextp() == s->ctx) Verilated::lastContextp(Verilated::defaultContextp());
    delete s->ctx;
    delete s;
}

template <class M>
static inline void vlshim_eval(VlShim<M>* s) {
    vlshim_use_ctx(s->ctx);
    s->top->eval();
}

#if VM_TRACE
// Trace time line, 10 units per cycle: inputs as applied before edge c at
// 10c, rising edge c at 10c+5 (clock falls again at 10c+10, with the next
// inputs).
template <class M>
static inline void vlshim_dump(VlShim<M>* s, uint64_t t) {
    s->ctx->time(t);
    s->tfp->dump(t);
}
#endif

// One full clock cycle, n times: clk=1; eval; clk=0; eval.
// CLK is the member holding the clock input.
#if VM_TRACE
#define VLSHIM_TICK(s, n, CLK)                                  \
    do {                                                        \
        vlshim_use_ctx((s)->ctx);                               \
        for (uint64_t i_ = 0; i_ < (n); ++i_) {                 \
            if (VL_UNLIKELY((s)->tfp != nullptr)) {             \
                (s)->top->eval();                               \
                vlshim_dump((s), (s)->cycle * 10);              \
            }                                                   \
            (s)->top->CLK = 1;                                  \
            (s)->top->eval();                                   \
            if (VL_UNLIKELY((s)->tfp != nullptr))               \
                vlshim_dump((s), (s)->cycle * 10 + 5);          \
            (s)->top->CLK = 0;                                  \
            (s)->top->eval();                                   \
            ++(s)->cycle;                                       \
        }                                                       \
    } while (0)
#else
#define VLSHIM_TICK(s, n, CLK)                                  \
    do {                                                        \
        vlshim_use_ctx((s)->ctx);                               \
        for (uint64_t i_ = 0; i_ < (n); ++i_) {                 \
            (s)->top->CLK = 1;                                  \
            (s)->top->eval();                                   \
            (s)->top->CLK = 0;                                  \
            (s)->top->eval();                                   \
            ++(s)->cycle;                                       \
        }                                                       \
    } while (0)
#endif

// Returns 0 on success, -1 if tracing is not compiled in, -2 if a trace is
// already open, -3 if the file could not be opened.
template <class M>
int vlshim_trace_open(VlShim<M>* s, const char* path, int levels) {
#if VM_TRACE
    if (s->tfp) return -2;
    vlshim_use_ctx(s->ctx);
    auto* t = new VerilatedVcdC;
    s->top->trace(t, levels > 0 ? levels : 99);
    t->open(path);
    if (!t->isOpen()) {
        delete t;
        return -3;
    }
    s->tfp = t;  // first dump (a full one) at the next tick
    return 0;
#else
    (void)s;
    (void)path;
    (void)levels;
    return -1;
#endif
}

template <class M>
void vlshim_trace_close(VlShim<M>* s) {
#if VM_TRACE
    if (s->tfp) {
        s->tfp->close();
        delete s->tfp;
        s->tfp = nullptr;
    }
#else
    (void)s;
#endif
}

template <class M>
void vlshim_trace_flush(VlShim<M>* s) {
#if VM_TRACE
    if (s->tfp) s->tfp->flush();
#else
    (void)s;
#endif
}
