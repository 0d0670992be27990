//! The simulator's host prelude and epilogue: the C++ that goes around the exact emitted CUDA
//! text so that the system C++ compiler builds it into a shared library.
//!
//! The prelude turns CUDA's qualifiers into nothing, defines `dim3`, the thread and block
//! indices (thread-local, so several host threads may simulate at once), `__shared__` memory
//! (a function-local `static thread_local`, shared by a block's threads because they run on
//! one host thread), `atomicOr`, `__syncthreads` and `__shfl_down_sync`.
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
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static thread_local
struct dim3 { unsigned x, y, z; };
static thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
static thread_local int kiln_sim_error;

static inline float __int_as_float(int i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline double __longlong_as_double(long long i) { double d; memcpy(&d, &i, sizeof d); return d; }
static inline unsigned atomicOr(unsigned* p, unsigned v) { return __atomic_fetch_or(p, v, __ATOMIC_RELAXED); }

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
static thread_local kiln_fiber* kiln_fibers;
static thread_local char* kiln_stacks;
static thread_local unsigned kiln_cur;
static thread_local int kiln_in_fiber;
static thread_local void (*kiln_entry)(const void*);
static thread_local const void* kiln_entry_args;
static thread_local unsigned long long kiln_xch[KILN_MAX_THREADS];
#if defined(__x86_64__)
static thread_local void* kiln_sched_sp;
extern "C" void kiln_switch(void** save, void* load);
asm(".text\n.p2align 4\n.globl kiln_switch\n.hidden kiln_switch\n.type kiln_switch,@function\nkiln_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n  ret\n"
    ".size kiln_switch, .-kiln_switch\n");
#else
static thread_local ucontext_t kiln_sched_ctx;
#endif

static void kiln_to_sched(int state) {
  kiln_fiber* f = &kiln_fibers[kiln_cur];
  f->state = state;
#if defined(__x86_64__)
  kiln_switch(&f->sp, kiln_sched_sp);
#else
  swapcontext(&f->ctx, &kiln_sched_ctx);
#endif
}

static void kiln_fiber_main() {
  kiln_entry(kiln_entry_args);
  kiln_to_sched(KILN_DONE);
  abort();  // a finished fiber is never resumed
}

static void kiln_fiber_init(unsigned t) {
  char* top = kiln_stacks + (size_t)(t + 1) * KILN_STACK;
  kiln_fibers[t].state = KILN_RUN;
#if defined(__x86_64__)
  void** sp = (void**)((unsigned long long)top & ~15ull);
  *--sp = 0;                          // the return address kiln_fiber_main never uses
  *--sp = (void*)&kiln_fiber_main;    // where kiln_switch's `ret` goes
  for (int i = 0; i < 6; ++i) *--sp = 0;  // rbp rbx r12 r13 r14 r15
  kiln_fibers[t].sp = sp;
#else
  getcontext(&kiln_fibers[t].ctx);
  kiln_fibers[t].ctx.uc_stack.ss_sp = top - KILN_STACK;
  kiln_fibers[t].ctx.uc_stack.ss_size = KILN_STACK;
  kiln_fibers[t].ctx.uc_link = 0;
  makecontext(&kiln_fibers[t].ctx, (void (*)())kiln_fiber_main, 0);
#endif
}

static void kiln_resume(unsigned t) {
  kiln_cur = t;
  threadIdx.x = t;
#if defined(__x86_64__)
  kiln_switch(&kiln_sched_sp, kiln_fibers[t].sp);
#else
  swapcontext(&kiln_sched_ctx, &kiln_fibers[t].ctx);
#endif
}

// Run one block's threads as fibers until all have returned.
static void kiln_run_block_fibers(unsigned n) {
  for (unsigned t = 0; t < n; ++t) kiln_fiber_init(t);
  unsigned alive = n;
  kiln_in_fiber = 1;
  while (alive > 0) {
    for (unsigned w = 0; w < n; w += 32) {
      unsigned end = w + 32 < n ? w + 32 : n;
      for (;;) {
        for (unsigned t = w; t < end; ++t) {
          if (kiln_fibers[t].state != KILN_RUN) continue;
          kiln_resume(t);
          if (kiln_fibers[t].state == KILN_DONE) --alive;
        }
        int released = 0;  // every thread of the warp now waits or is done
        for (unsigned t = w; t < end; ++t)
          if (kiln_fibers[t].state == KILN_WAIT_WARP) { kiln_fibers[t].state = KILN_RUN; released = 1; }
        if (!released) break;
      }
    }
    for (unsigned t = 0; t < n; ++t)
      if (kiln_fibers[t].state == KILN_WAIT_BLOCK) kiln_fibers[t].state = KILN_RUN;
  }
  kiln_in_fiber = 0;
}

static inline void __syncthreads() {
  if (!kiln_in_fiber) { kiln_sim_error = 2; return; }
  kiln_to_sched(KILN_WAIT_BLOCK);
}

template <class T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  (void)mask; (void)width;
  if (!kiln_in_fiber) { kiln_sim_error = 2; return v; }
  const unsigned t = threadIdx.x;
  memcpy(&kiln_xch[t], &v, sizeof(T));
  kiln_to_sched(KILN_WAIT_WARP);
  T r = v;
  if ((t & 31u) + delta < 32u && t + delta < blockDim.x) memcpy(&r, &kiln_xch[t + delta], sizeof(T));
  kiln_to_sched(KILN_WAIT_WARP);
  return r;
}

// Run a whole grid of one kernel; returns 0, or nonzero when the simulation went wrong.
static int kiln_sim_run(void (*fn)(const void*), int barriers, const void* args, unsigned grid, unsigned block) {
  if (block == 0 || block > KILN_MAX_THREADS) return 1;
  kiln_sim_error = 0;
  gridDim.x = grid; gridDim.y = 1; gridDim.z = 1;
  blockDim.x = block; blockDim.y = 1; blockDim.z = 1;
  threadIdx.y = threadIdx.z = 0;
  blockIdx.y = blockIdx.z = 0;
  if (barriers) {
    kiln_fibers = (kiln_fiber*)calloc(block, sizeof(kiln_fiber));
    kiln_stacks = (char*)malloc((size_t)block * KILN_STACK);
    if (!kiln_fibers || !kiln_stacks) { free(kiln_fibers); free(kiln_stacks); return 3; }
    kiln_entry = fn;
    kiln_entry_args = args;
  }
  for (unsigned b = 0; b < grid; ++b) {
    blockIdx.x = b;
    if (barriers) {
      kiln_run_block_fibers(block);
    } else {
      for (unsigned t = 0; t < block; ++t) { threadIdx.x = t; fn(args); }
    }
  }
  if (barriers) { free(kiln_fibers); free(kiln_stacks); kiln_fibers = 0; kiln_stacks = 0; }
  return kiln_sim_error;
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
    s.push_str("  return kiln_sim_run(fns[k], barriers[k], args, grid, block);\n}\n");
    s
}
