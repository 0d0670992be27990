//! The CUDA C prelude every emitted program starts with. NVRTC gets no headers (the wheel ships
//! none), so everything the kernels use beyond CUDA's built-in math functions (`expf`, `logf`,
//! `sinf`, ...) and intrinsics (`__shfl_down_sync`, `__shfl_up_sync`, `atomicOr`) is defined here, in plain C++
//! that both NVRTC and a host C++ compiler (behind the simulator's host prelude) accept.
//!
//! The helpers implement `kiln_ir::loops::Scalar` semantics exactly: integer arithmetic wraps
//! (done in unsigned arithmetic, as signed overflow is undefined in C++), integer `/ 0` and
//! `% 0` yield 0 and `MIN / -1` wraps, float -> integer casts saturate with NaN -> 0, float
//! `min`/`max` propagate NaN.

/// The prelude text (no trailing program-specific part).
pub const PRELUDE: &str = r#"// kiln CUDA prelude: Scalar semantics of the loop IR, without headers.
#define KILN_FN __device__ __forceinline__ static
typedef long long kiln_i64;
typedef unsigned long long kiln_u64;

// Wrapping integer arithmetic (through unsigned, where overflow is defined).
KILN_FN int kiln_add(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
KILN_FN int kiln_sub(int a, int b) { return (int)((unsigned)a - (unsigned)b); }
KILN_FN int kiln_mul(int a, int b) { return (int)((unsigned)a * (unsigned)b); }
KILN_FN int kiln_neg(int a) { return (int)(0u - (unsigned)a); }
KILN_FN kiln_i64 kiln_add(kiln_i64 a, kiln_i64 b) { return (kiln_i64)((kiln_u64)a + (kiln_u64)b); }
KILN_FN kiln_i64 kiln_sub(kiln_i64 a, kiln_i64 b) { return (kiln_i64)((kiln_u64)a - (kiln_u64)b); }
KILN_FN kiln_i64 kiln_mul(kiln_i64 a, kiln_i64 b) { return (kiln_i64)((kiln_u64)a * (kiln_u64)b); }
KILN_FN kiln_i64 kiln_neg(kiln_i64 a) { return (kiln_i64)(0ull - (kiln_u64)a); }
KILN_FN unsigned kiln_add(unsigned a, unsigned b) { return a + b; }
KILN_FN unsigned kiln_sub(unsigned a, unsigned b) { return a - b; }
KILN_FN unsigned kiln_mul(unsigned a, unsigned b) { return a * b; }
KILN_FN int kiln_abs(int a) { return a < 0 ? kiln_neg(a) : a; }
KILN_FN kiln_i64 kiln_abs(kiln_i64 a) { return a < 0 ? kiln_neg(a) : a; }

// Division and remainder never trap: by zero they yield 0, MIN / -1 wraps, MIN % -1 is 0.
KILN_FN int kiln_div(int a, int b) { return b == 0 ? 0 : (b == -1 ? kiln_neg(a) : a / b); }
KILN_FN int kiln_rem(int a, int b) { return (b == 0 || b == -1) ? 0 : a % b; }
KILN_FN kiln_i64 kiln_div(kiln_i64 a, kiln_i64 b) { return b == 0 ? 0 : (b == -1 ? kiln_neg(a) : a / b); }
KILN_FN kiln_i64 kiln_rem(kiln_i64 a, kiln_i64 b) { return (b == 0 || b == -1) ? 0 : a % b; }
KILN_FN unsigned kiln_div(unsigned a, unsigned b) { return b == 0u ? 0u : a / b; }
KILN_FN unsigned kiln_rem(unsigned a, unsigned b) { return b == 0u ? 0u : a % b; }

// Shifts as Rust's `wrapping_shl`/`wrapping_shr`: the amount modulo the bit width; left shifts
// through unsigned; right shifts arithmetic on signed types.
KILN_FN int kiln_shl(int a, int n) { return (int)((unsigned)a << ((unsigned)n & 31u)); }
KILN_FN int kiln_shr(int a, int n) { return a >> ((unsigned)n & 31u); }
KILN_FN kiln_i64 kiln_shl(kiln_i64 a, kiln_i64 n) { return (kiln_i64)((kiln_u64)a << ((kiln_u64)n & 63ull)); }
KILN_FN kiln_i64 kiln_shr(kiln_i64 a, kiln_i64 n) { return a >> ((kiln_u64)n & 63ull); }
KILN_FN unsigned kiln_shl(unsigned a, unsigned n) { return a << (n & 31u); }
KILN_FN unsigned kiln_shr(unsigned a, unsigned n) { return a >> (n & 31u); }

// Population count, in the operand's type (`__popc` on the device, bit arithmetic on a host).
#ifdef __CUDA_ARCH__
KILN_FN unsigned kiln_popc32(unsigned v) { return (unsigned)__popc(v); }
#else
KILN_FN unsigned kiln_popc32(unsigned v) {
  v = v - ((v >> 1) & 0x55555555u);
  v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
  return (((v + (v >> 4)) & 0x0F0F0F0Fu) * 0x01010101u) >> 24;
}
#endif
KILN_FN int kiln_count_ones(int a) { return (int)kiln_popc32((unsigned)a); }
KILN_FN unsigned kiln_count_ones(unsigned a) { return kiln_popc32(a); }
KILN_FN kiln_i64 kiln_count_ones(kiln_i64 a) {
  return (kiln_i64)(kiln_popc32((unsigned)(kiln_u64)a) + kiln_popc32((unsigned)((kiln_u64)a >> 32)));
}

// min/max: integers plainly, floats propagating NaN (numpy `minimum`/`maximum`).
KILN_FN int kiln_min(int a, int b) { return a < b ? a : b; }
KILN_FN int kiln_max(int a, int b) { return a > b ? a : b; }
KILN_FN kiln_i64 kiln_min(kiln_i64 a, kiln_i64 b) { return a < b ? a : b; }
KILN_FN kiln_i64 kiln_max(kiln_i64 a, kiln_i64 b) { return a > b ? a : b; }
KILN_FN unsigned kiln_min(unsigned a, unsigned b) { return a < b ? a : b; }
KILN_FN unsigned kiln_max(unsigned a, unsigned b) { return a > b ? a : b; }
KILN_FN float kiln_min(float a, float b) { return (a != a || b != b) ? a + b : (b < a ? b : a); }
KILN_FN float kiln_max(float a, float b) { return (a != a || b != b) ? a + b : (b > a ? b : a); }
KILN_FN double kiln_min(double a, double b) { return (a != a || b != b) ? a + b : (b < a ? b : a); }
KILN_FN double kiln_max(double a, double b) { return (a != a || b != b) ? a + b : (b > a ? b : a); }

// Float helpers.
KILN_FN float kiln_signum(float x) { return x != x ? x : copysignf(1.0f, x); }
KILN_FN double kiln_signum(double x) { return x != x ? x : copysign(1.0, x); }
KILN_FN float kiln_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
KILN_FN double kiln_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
KILN_FN float kiln_powi(float x, int n) {
  float r = 1.0f, b = x;
  unsigned e = n < 0 ? 0u - (unsigned)n : (unsigned)n;
  while (e) { if (e & 1u) r *= b; b *= b; e >>= 1; }
  return n < 0 ? 1.0f / r : r;
}
KILN_FN double kiln_powi(double x, int n) {
  double r = 1.0, b = x;
  unsigned e = n < 0 ? 0u - (unsigned)n : (unsigned)n;
  while (e) { if (e & 1u) r *= b; b *= b; e >>= 1; }
  return n < 0 ? 1.0 / r : r;
}

// Casts as Rust `as`: float -> integer truncates and saturates, NaN -> 0.
KILN_FN int kiln_f2i32(double d) {
  return d != d ? 0 : d >= 2147483648.0 ? 2147483647 : d <= -2147483649.0 ? (-2147483647 - 1) : (int)d;
}
KILN_FN kiln_i64 kiln_f2i64(double d) {
  return d != d ? 0 : d >= 9223372036854775808.0 ? 9223372036854775807ll
       : d < -9223372036854775808.0 ? (-9223372036854775807ll - 1) : (kiln_i64)d;
}
KILN_FN unsigned kiln_f2u32(double d) {
  return d != d ? 0u : d >= 4294967296.0 ? 4294967295u : d <= -1.0 ? 0u : (unsigned)d;
}

// Bit patterns of float constants that have no decimal spelling (infinities, NaN).
KILN_FN float kiln_f32_bits(unsigned b) { return __int_as_float((int)b); }
KILN_FN double kiln_f64_bits(kiln_u64 b) { return __longlong_as_double((kiln_i64)b); }

// Index checks raise flag 0 (index_out_of_range) and yield 0, so no access is out of bounds.
KILN_FN kiln_i64 kiln_check(kiln_i64 i, kiln_i64 n, unsigned* flags) {
  if (i >= 0 && i < n) return i;
  atomicOr(flags, 1u);
  return 0;
}

// Block reductions: a warp-shuffle tree in each warp, then warp 0 combines the warps' results
// from shared memory. The result is valid in thread 0; every thread of the block must call it.
struct kiln_op_add { template <class T> __device__ T operator()(T a, T b) const { return kiln_add(a, b); } };
struct kiln_op_addf { template <class T> __device__ T operator()(T a, T b) const { return a + b; } };
struct kiln_op_mul { template <class T> __device__ T operator()(T a, T b) const { return kiln_mul(a, b); } };
struct kiln_op_mulf { template <class T> __device__ T operator()(T a, T b) const { return a * b; } };
struct kiln_op_min { template <class T> __device__ T operator()(T a, T b) const { return kiln_min(a, b); } };
struct kiln_op_max { template <class T> __device__ T operator()(T a, T b) const { return kiln_max(a, b); } };
template <class Op, class T>
__device__ __forceinline__ static T kiln_block_reduce(T v, T identity, T* smem, Op op) {
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
  for (unsigned o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (blockDim.x >> 5) ? smem[lane] : identity;
    for (unsigned o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
  }
  __syncthreads();
  return v;
}

// Block scans: the inclusive prefix of `v` over the block's threads in thread order, in every
// thread, and the block's total in `*total`. Each warp scans by `__shfl_up_sync` (Hillis-Steele:
// after the step of distance o, lane l holds the fold of lanes l - 2o + 1 ..= l); warp 0 scans
// the warp totals the same way through shared memory; a thread of warp w > 0 then folds the
// totals of warps 0..w in front of its own prefix. Every thread of the block must call it.
template <class Op, class T>
__device__ __forceinline__ static T kiln_block_scan(T v, T identity, T* smem, T* total, Op op) {
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (unsigned o = 1; o < 32; o <<= 1) {
    const T u = __shfl_up_sync(0xffffffffu, v, o);
    if (lane >= o) v = op(u, v);
  }
  if (lane == 31u) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    T w = lane < warps ? smem[lane] : identity;
    for (unsigned o = 1; o < 32; o <<= 1) {
      const T u = __shfl_up_sync(0xffffffffu, w, o);
      if (lane >= o) w = op(u, w);
    }
    if (lane < warps) smem[lane] = w;
  }
  __syncthreads();
  if (warp > 0) v = op(smem[warp - 1], v);
  *total = smem[warps - 1];
  __syncthreads();
  return v;
}
"#;
