//! The simulator's host prelude and epilogue: the C++ that goes around the exact emitted CUDA
//! text so that the system C++ compiler builds it into a shared library.
//!
//! The prelude turns CUDA's qualifiers into nothing, defines `dim3`, the thread and block
//! indices, `__shared__` memory (a function-local `static`, shared by a block's threads because
//! they run on one host thread, one block after another), `atomicOr`, `__syncthreads`,
//! `__shfl_down_sync` and `__shfl_up_sync`. All of it is plain static state, so launches of one library are
//! serialized by a lock (launches of different programs run in parallel).
//!
//! Blocks run one after another. In a kernel without barriers each thread of a block simply
//! runs to completion in turn ("warp as loop"). A kernel with barriers runs its block's
//! threads as fibers (coroutines with their own stacks, switched by a few instructions of
//! assembly on x86-64, `ucontext` elsewhere): a thread at `__syncthreads` waits until every
//! live thread of the block is there, a thread in a shuffle until every live thread of its
//! warp is.

use crate::emit::CudaProgram;
use std::fmt::Write as _;

/// Everything before the emitted CUDA text.
pub(super) const HOST_PRELUDE: &str = r#"// kiln CUDA simulator: host prelude.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
struct dim3 { unsigned x, y, z; };

// ---- fibers: one per thread of a block, for kernels with barriers ----
enum { KILN_RUN = 0, KILN_WAIT_WARP = 1, KILN_WAIT_BLOCK = 2, KILN_DONE = 3 };
enum { KILN_MAX_THREADS = 1024, KILN_STACK = 64 * 1024 };
struct kiln_fiber {
  int state;
#if defined(__x86_64__)
  void* sp;
#else
  ucontext_t ctx;
#endif
};

// All simulator state, in one object: launches of one library are serialized by `kiln_lock`
// (thread-locals would cost a call per lookup in a loaded library: a third of the time).
struct kiln_sim_state {
  dim3 thread_idx, block_idx, block_dim, grid_dim;
  int error;
  int in_fiber;
  unsigned cur;
  kiln_fiber* fibers;
  char* stacks;
  void (*entry)(const void*);
  const void* entry_args;
#if defined(__x86_64__)
  void* sched_sp;
#else
  ucontext_t sched_ctx;
#endif
  // Shuffle exchange slots, double-buffered: shuffle k of a thread uses buffer `parity[t]`,
  // so one warp barrier per shuffle suffices (shuffle k + 2 cannot start before every lane
  // has passed shuffle k + 1's barrier, that is, finished reading shuffle k).
  unsigned long long xch[2][KILN_MAX_THREADS];
  unsigned char parity[KILN_MAX_THREADS];
};
static kiln_sim_state kiln_st;
static pthread_mutex_t kiln_lock = PTHREAD_MUTEX_INITIALIZER;
#define threadIdx (kiln_st.thread_idx)
#define blockIdx (kiln_st.block_idx)
#define blockDim (kiln_st.block_dim)
#define gridDim (kiln_st.grid_dim)

static inline float __int_as_float(int i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, sizeof d); return d; }
static inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, sizeof i); return i; }
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, sizeof i); return i; }
static inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline long long __double_as_longlong(double d) { long long i; memcpy(&i, &d, sizeof i); return i; }
static inline unsigned atomicOr(unsigned* p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }

#if defined(__x86_64__)
extern "C" void kiln_switch(void** save, void* load);
asm(".text\n.p2align 4\n.globl kiln_switch\n.hidden kiln_switch\n.type kiln_switch,@function\nkiln_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n  ret\n"
    ".size kiln_switch, .-kiln_switch\n");
#endif

static void kiln_to_sched(int state) {
  kiln_sim_state* st = &kiln_st;
  kiln_fiber* f = &st->fibers[st->cur];
  f->state = state;
#if defined(__x86_64__)
  kiln_switch(&f->sp, st->sched_sp);
#else
  swapcontext(&f->ctx, &st->sched_ctx);
#endif
}

static void kiln_fiber_main() {
  kiln_sim_state* st = &kiln_st;
  st->entry(st->entry_args);
  kiln_to_sched(KILN_DONE);
  abort();  // a finished fiber is never resumed
}

static void kiln_fiber_init(kiln_sim_state* st, unsigned t) {
  // Stack tops staggered by 832 bytes: 64 KiB apart exactly, they would share cache sets.
  char* top = st->stacks + (size_t)(t + 1) * KILN_STACK - (size_t)(t % 64) * 832;
  st->fibers[t].state = KILN_RUN;
#if defined(__x86_64__)
  void** sp = (void**)((unsigned long long)top & ~15ull);
  *--sp = 0;                          // the return address kiln_fiber_main never uses
  *--sp = (void*)&kiln_fiber_main;    // where kiln_switch's `ret` goes
  for (int i = 0; i < 6; ++i) *--sp = 0;  // rbp rbx r12 r13 r14 r15
  st->fibers[t].sp = sp;
#else
  getcontext(&st->fibers[t].ctx);
  st->fibers[t].ctx.uc_stack.ss_sp = top - KILN_STACK + 64 * 832;
  st->fibers[t].ctx.uc_stack.ss_size = KILN_STACK - 64 * 832;
  st->fibers[t].ctx.uc_link = 0;
  makecontext(&st->fibers[t].ctx, (void (*)())kiln_fiber_main, 0);
#endif
}

// Run one block's threads as fibers until all have returned.
static void kiln_run_block_fibers(unsigned n) {
  kiln_sim_state* st = &kiln_st;
  kiln_fiber* fs = st->fibers;
  for (unsigned t = 0; t < n; ++t) { kiln_fiber_init(st, t); st->parity[t] = 0; }
  unsigned alive = n;
  st->in_fiber = 1;
  while (alive > 0) {
    for (unsigned w = 0; w < n; w += 32) {
      unsigned end = w + 32 < n ? w + 32 : n;
      for (;;) {
        for (unsigned t = w; t < end; ++t) {
          if (fs[t].state != KILN_RUN) continue;
          st->cur = t;
          st->thread_idx.x = t;
#if defined(__x86_64__)
          kiln_switch(&st->sched_sp, fs[t].sp);
#else
          swapcontext(&st->sched_ctx, &fs[t].ctx);
#endif
          if (fs[t].state == KILN_DONE) --alive;
        }
        int released = 0;  // every thread of the warp now waits or is done
        for (unsigned t = w; t < end; ++t)
          if (fs[t].state == KILN_WAIT_WARP) { fs[t].state = KILN_RUN; released = 1; }
        if (!released) break;
      }
    }
    for (unsigned t = 0; t < n; ++t)
      if (fs[t].state == KILN_WAIT_BLOCK) fs[t].state = KILN_RUN;
  }
  st->in_fiber = 0;
}

static inline void __syncthreads() {
  if (!kiln_st.in_fiber) { kiln_st.error = 2; return; }
  kiln_to_sched(KILN_WAIT_BLOCK);
}

template <class T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  (void)mask; (void)width;
  kiln_sim_state* st = &kiln_st;
  if (!st->in_fiber) { st->error = 2; return v; }
  const unsigned t = st->thread_idx.x;
  unsigned long long* xch = st->xch[st->parity[t]];
  st->parity[t] ^= 1;
  memcpy(&xch[t], &v, sizeof(T));
  kiln_to_sched(KILN_WAIT_WARP);
  T r = v;
  if ((t & 31u) + delta < 32u && t + delta < st->block_dim.x) memcpy(&r, &xch[t + delta], sizeof(T));
  return r;
}

template <class T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  (void)mask; (void)width;
  kiln_sim_state* st = &kiln_st;
  if (!st->in_fiber) { st->error = 2; return v; }
  const unsigned t = st->thread_idx.x;
  unsigned long long* xch = st->xch[st->parity[t]];
  st->parity[t] ^= 1;
  memcpy(&xch[t], &v, sizeof(T));
  kiln_to_sched(KILN_WAIT_WARP);
  T r = v;
  if ((t & 31u) >= delta) memcpy(&r, &xch[t - delta], sizeof(T));
  return r;
}

// Run a whole grid of one kernel; returns 0, or nonzero when the simulation went wrong.
static int kiln_sim_run(void (*fn)(const void*), int barriers, const void* args, unsigned grid, unsigned block) {
  kiln_sim_state* st = &kiln_st;
  if (block == 0 || block > KILN_MAX_THREADS) return 1;
  st->error = 0;
  st->grid_dim.x = grid; st->grid_dim.y = 1; st->grid_dim.z = 1;
  st->block_dim.x = block; st->block_dim.y = 1; st->block_dim.z = 1;
  st->thread_idx.y = st->thread_idx.z = 0;
  st->block_idx.y = st->block_idx.z = 0;
  if (barriers) {
    st->fibers = (kiln_fiber*)calloc(block, sizeof(kiln_fiber));
    st->stacks = (char*)malloc((size_t)block * KILN_STACK);
    if (!st->fibers || !st->stacks) { free(st->fibers); free(st->stacks); st->fibers = 0; st->stacks = 0; return 3; }
    st->entry = fn;
    st->entry_args = args;
  }
  for (unsigned b = 0; b < grid; ++b) {
    st->block_idx.x = b;
    if (barriers) {
      kiln_run_block_fibers(block);
    } else {
      for (unsigned t = 0; t < block; ++t) { st->thread_idx.x = t; fn(args); }
    }
  }
  if (barriers) { free(st->fibers); free(st->stacks); st->fibers = 0; st->stacks = 0; }
  return st->error;
}

// ---- the emitted CUDA C, exactly as NVRTC gets it ----
"#;

/// The launch entry point after the emitted text: one trampoline per kernel and
/// `kiln_sim_launch(kernel, args, grid, block)`.
pub(super) fn epilogue(p: &CudaProgram) -> String {
    let mut s = String::from("\n// ---- kiln CUDA simulator: launch table ----\n");
    for (i, k) in p.kernels.iter().enumerate() {
        let _ = writeln!(s, "static void kiln_call_{i}(const void* a) {{ {}(*(const KilnArgs*)a); }}", k.name);
    }
    s.push_str("extern \"C\" int kiln_sim_launch(unsigned k, const void* args, unsigned grid, unsigned block) {\n");
    if p.kernels.is_empty() {
        s.push_str("  (void)k; (void)args; (void)grid; (void)block;\n  return 4;\n}\n");
        return s;
    }
    let fns: Vec<String> = (0..p.kernels.len()).map(|i| format!("kiln_call_{i}")).collect();
    let bars: Vec<&str> = p.kernels.iter().map(|k| if k.launch.uses_barriers() { "1" } else { "0" }).collect();
    let _ = writeln!(s, "  static void (*const fns[])(const void*) = {{ {} }};", fns.join(", "));
    let _ = writeln!(s, "  static const int barriers[] = {{ {} }};", bars.join(", "));
    let _ = writeln!(s, "  if (k >= {}u) return 4;", p.kernels.len());
    s.push_str("  pthread_mutex_lock(&kiln_lock);\n");
    s.push_str("  int rc = kiln_sim_run(fns[k], barriers[k], args, grid, block);\n");
    s.push_str("  pthread_mutex_unlock(&kiln_lock);\n  return rc;\n}\n");
    s
}
