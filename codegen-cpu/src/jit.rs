//! JIT compilation of a whole loop program and the handle that owns the native code.
//!
//! One `JITModule` per [`CpuProgram`]: it holds every kernel of the program and the imports
//! of the libm functions they call, and is freed when the program is dropped. Each kernel is
//! first built with a vector inner loop when [`crate::simd::plan`] accepts it; if Cranelift
//! rejects that version (an op the x64 backend has no vector lowering for), the kernel is
//! rebuilt scalar, so vectorization never turns a compilable kernel into an error.

use crate::kernel::{build_kernel, Vectorized};
use crate::{math, ArgPack, CpuError};
use cranelift_codegen::ir::{types, AbiParam, Signature, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use kiln_ir::loops::{BufId, Kernel, LoopProgram};
use std::collections::HashMap;
use std::fmt::Write;
use std::time::Instant;

/// The native signature of every kernel (see the crate documentation).
type KernelFn = unsafe extern "C" fn(*const ArgPack, i64, i64);

/// A compiled loop program: one native function per kernel, in program order.
pub struct CpuProgram {
    module: Option<JITModule>,
    fns: Vec<KernelFn>,
    names: Vec<String>,
    vectorized: Vec<bool>,
    repacks: Vec<Vec<(BufId, usize)>>,
    blocks: Vec<usize>,
    clif: String,
    asm: Option<String>,
    compile_micros: u128,
    kernel_micros: Vec<u128>,
}

// SAFETY: after `finalize_definitions` the module is never touched again until `Drop` (which
// has `&mut self`); the generated functions only read the code pages and the caller's
// buffers, so sharing the handle between threads is sound.
unsafe impl Send for CpuProgram {}
// SAFETY: as above; no method mutates shared state.
unsafe impl Sync for CpuProgram {}

impl std::fmt::Debug for CpuProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuProgram")
            .field("kernels", &self.names)
            .field("vectorized", &self.vectorized)
            .field("compile_micros", &self.compile_micros)
            .finish()
    }
}

impl CpuProgram {
    /// Number of kernels (the valid `kernel` arguments of [`CpuProgram::run`] are `0..kernels()`).
    pub fn kernels(&self) -> usize {
        self.fns.len()
    }

    /// Run the points `start..end` of kernel `kernel`'s flattened domain.
    ///
    /// # Safety
    /// The caller guarantees, for the [`LoopProgram`] this was compiled from:
    /// * `args.bufs` points to one valid [`crate::BufDesc`] per buffer; each `strides` points
    ///   to one `i64` per axis; every element reachable through the buffer's shape (its
    ///   dimensions evaluated with `args.syms`) and strides is valid memory of the buffer's
    ///   dtype, writable for outputs and temporaries; bool elements are 0 or 1;
    /// * `args.syms` points to one `i64` per symbol, each `>= 0`, and these are the values the
    ///   buffers' shapes were built from (the loop IR's index proofs rely on it);
    /// * `args.flags` points to `Flag::ALL.len()` writable `u32`s;
    /// * `0 <= start <= end <=` the product of the kernel's domain extents;
    /// * no other thread writes memory this call reads or writes, except that concurrent
    ///   calls of the same kernel over disjoint ranges may share `args` (the flag writes of
    ///   such calls store the same value 1).
    ///
    /// # Panics
    /// If `kernel >= self.kernels()`.
    pub unsafe fn run(&self, kernel: usize, args: &ArgPack, start: i64, end: i64) {
        let f = self.fns[kernel];
        // SAFETY: the function has the `KernelFn` ABI and the caller upholds its contract.
        unsafe { f(args, start, end) }
    }

    /// Wall time of [`compile`], in microseconds.
    pub fn compile_micros(&self) -> u128 {
        self.compile_micros
    }

    /// Time spent building and compiling each kernel, in microseconds.
    pub fn kernel_micros(&self) -> &[u128] {
        &self.kernel_micros
    }

    /// Whether each kernel got a vector inner loop.
    pub fn vectorized(&self) -> &[bool] {
        &self.vectorized
    }

    /// The inputs (and axes) kernel `kernel`'s vector loop wants with stride 1 and reads many
    /// times over ([`crate::simd::Plan::repack`]): a caller whose input lacks stride 1 there
    /// should pass a copy that has it ([`crate::repack::contiguous_along`]); otherwise the kernel runs
    /// its scalar loop, which is correct but slower. Empty for a scalar kernel.
    ///
    /// # Panics
    /// If `kernel >= self.kernels()`.
    pub fn repacks(&self, kernel: usize) -> &[(BufId, usize)] {
        &self.repacks[kernel]
    }

    /// Domain points per iteration of kernel `kernel`'s widest vector loop when it runs over
    /// the whole (rank-1) domain, else 1. [`CpuProgram::run`] takes any range, but one that
    /// does not end at a multiple of this from its start finishes in scalar iterations: a
    /// caller splitting the domain between threads should cut at multiples.
    ///
    /// # Panics
    /// If `kernel >= self.kernels()`.
    pub fn block(&self, kernel: usize) -> usize {
        self.blocks[kernel]
    }

    /// CLIF of every kernel, before and after Cranelift's optimizer, labelled; empty unless
    /// compiled with [`CompileOptions::inspect`].
    pub fn clif(&self) -> &str {
        &self.clif
    }

    /// x86 assembly of every kernel (with the `disas` feature), else Cranelift's VCode listing
    /// (machine instructions after register allocation), labelled; `None` unless compiled
    /// with [`CompileOptions::inspect`].
    pub fn asm(&self) -> Option<&str> {
        self.asm.as_deref()
    }
}

impl Drop for CpuProgram {
    fn drop(&mut self) {
        self.fns.clear();
        if let Some(m) = self.module.take() {
            // SAFETY: the function pointers were private to this value and are gone; nothing
            // can call into the code any more.
            unsafe { m.free_memory() };
        }
    }
}

/// How to compile: what [`compile`] does by default, and the knobs for inspection and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Keep the CLIF (before and after optimization) and the machine code listing of every
    /// kernel for [`CpuProgram::clif`] and [`CpuProgram::asm`]. Costs about half again the
    /// compile time, so it is off by default.
    pub inspect: bool,
    /// Give kernels a vector inner loop where [`crate::simd::plan`] allows (on by default).
    pub simd: bool,
    /// Emit `exp ln tanh sigmoid sin cos` as inline polynomials ([`crate::vmath`], on by
    /// default) rather than one libm call per element (kept for comparison and timing).
    pub poly_math: bool,
    /// Tier 0, for a kernel's first small calls: compiled without Cranelift's optimizer
    /// (`opt_level=none`), with its single-pass register allocator and without kernel-level
    /// vector loops (maps, rows as lanes: each lane is exactly its scalar iteration; the
    /// vector loops of reductions, which fix a summation order, stay). About half the compile
    /// time, code up to several times slower, and bit for bit the same results (tests/all/tiers.rs). Off by default.
    pub fast: bool,
    /// Use the host's FMA instructions where it has them (on by default): `mul_add` and the
    /// polynomials' fused steps. Off, `mul_add` calls C99's `fma`/`fmaf` (per lane in vector
    /// loops) and polynomials multiply and add: the code a host without FMA gets, for tests.
    pub fma: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { inspect: false, simd: true, poly_math: true, fast: false, fma: true }
    }
}

/// JIT-compile every kernel of `lp` for the host CPU with the default [`CompileOptions`]
/// (vectorized, no inspection text).
///
/// # Errors
/// As [`compile_with`].
pub fn compile(lp: &LoopProgram) -> Result<CpuProgram, CpuError> {
    compile_with(lp, &CompileOptions::default())
}

/// JIT-compile every kernel of `lp` for the host CPU.
///
/// # Errors
/// [`CpuError::Invalid`] when `lp` fails the loop IR verifier, [`CpuError::Unsupported`] for a
/// construct the backend cannot lower (an op on a dtype it is not defined for),
/// [`CpuError::Cranelift`] if Cranelift rejects a generated function.
pub fn compile_with(lp: &LoopProgram, opts: &CompileOptions) -> Result<CpuProgram, CpuError> {
    let t0 = Instant::now();
    kiln_ir::loops::verify_loops(lp)?;
    let mut module = new_module(opts.fast)?;
    let mut imports = HashMap::new();
    for (name, _, arity, dt) in math::symbols() {
        let ty = crate::kernel::clif_type(dt);
        let mut sig = module.make_signature();
        sig.params.extend((0..arity).map(|_| AbiParam::new(ty)));
        sig.returns.push(AbiParam::new(ty));
        let id = module.declare_function(name, Linkage::Import, &sig).map_err(|e| cl_err("imports", e))?;
        imports.insert(name, id);
    }
    let mut sig = module.make_signature();
    sig.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I64), AbiParam::new(types::I64)]);

    let mut fctx = FunctionBuilderContext::new();
    let mut ids = vec![];
    let mut out = CpuProgram {
        module: None,
        fns: vec![],
        names: vec![],
        vectorized: vec![],
        repacks: vec![],
        blocks: vec![],
        clif: String::new(),
        asm: opts.inspect.then(String::new),
        compile_micros: 0,
        kernel_micros: vec![],
    };
    for (ki, k) in lp.kernels.iter().enumerate() {
        let tk = Instant::now();
        let id = module
            .declare_function(&format!("kiln_{ki}_{}", k.name), Linkage::Local, &sig)
            .map_err(|e| cl_err(&k.name, e))?;
        let inspect = opts.inspect;
        let first = define(&mut module, &mut fctx, &imports, &sig, lp, k, id, ki, opts.simd, opts, inspect);
        let (text, asm, repack) = match first {
            Ok(r) => r,
            Err(_) if opts.simd => define(&mut module, &mut fctx, &imports, &sig, lp, k, id, ki, false, opts, inspect)?,
            Err(e) => return Err(e),
        };
        out.clif.push_str(&text);
        if let Some(a) = out.asm.as_mut() {
            a.push_str(&asm);
        }
        out.names.push(k.name.clone());
        out.vectorized.push(repack.is_some());
        out.blocks.push(repack.as_ref().map_or(1, |v| v.block.max(1) as usize));
        out.repacks.push(repack.map(|v| v.repack).unwrap_or_default());
        out.kernel_micros.push(tk.elapsed().as_micros());
        ids.push(id);
    }
    module.finalize_definitions().map_err(|e| cl_err(&lp.name, e))?;
    for id in ids {
        let p = module.get_finalized_function(id);
        // SAFETY: `p` is the entry of a function just compiled with signature `sig`, which is
        // the platform C ABI `fn(*const ArgPack, i64, i64)` (pointers are 64-bit here).
        out.fns.push(unsafe { std::mem::transmute::<*const u8, KernelFn>(p) });
    }
    out.module = Some(module);
    out.compile_micros = t0.elapsed().as_micros();
    Ok(out)
}

/// Build kernel `k` (vectorized if `simd` and possible), compile it into `module` as `id`,
/// and return its labelled CLIF (before/after) and machine code listing.
fn define(
    module: &mut JITModule,
    fctx: &mut FunctionBuilderContext,
    imports: &HashMap<&'static str, FuncId>,
    sig: &Signature,
    lp: &LoopProgram,
    k: &Kernel,
    id: FuncId,
    index: usize,
    simd: bool,
    opts: &CompileOptions,
    inspect: bool,
) -> Result<(String, String, Option<Vectorized>), CpuError> {
    let mut ctx = module.make_context();
    ctx.func.signature = sig.clone();
    ctx.func.name = UserFuncName::user(0, index as u32);
    ctx.set_disasm(inspect);
    let repack = build_kernel(&mut ctx.func, fctx, module, imports, lp, k, simd, opts)?;
    let mut text = String::new();
    if inspect {
        let _ = writeln!(text, "; kernel {} (clif before optimization)\n{}", k.name, ctx.func.display());
    }
    module.define_function(id, &mut ctx).map_err(|e| cl_err(&k.name, e))?;
    if !inspect {
        return Ok((text, String::new(), repack));
    }
    let _ = writeln!(text, "; kernel {} (clif after optimization)\n{}", k.name, ctx.func.display());
    let listing = machine_code(module, &ctx);
    let asm = format!("; kernel {}\n{listing}\n", k.name);
    Ok((text, asm, repack))
}

#[cfg(feature = "disas")]
fn machine_code(module: &JITModule, ctx: &cranelift_codegen::Context) -> String {
    let Some(code) = ctx.compiled_code() else { return String::new() };
    match module.isa().to_capstone() {
        Ok(cs) => {
            code.disassemble(Some(&ctx.func.params), &cs).unwrap_or_else(|e| format!("; disassembly failed: {e}"))
        }
        Err(e) => format!("; capstone unavailable: {e}"),
    }
}

#[cfg(not(feature = "disas"))]
fn machine_code(_module: &JITModule, ctx: &cranelift_codegen::Context) -> String {
    ctx.compiled_code().and_then(|c| c.vcode.clone()).unwrap_or_default()
}

fn new_module(fast: bool) -> Result<JITModule, CpuError> {
    let err = |m: String| CpuError::Cranelift { kernel: "<isa>".into(), message: m };
    let mut flags = settings::builder();
    // Cranelift's IR verifier costs about a fifth of the compile time: on in debug builds
    // (tests), off in release.
    let verify = if cfg!(debug_assertions) { "true" } else { "false" };
    let (opt, regalloc) = if fast { ("none", "single_pass") } else { ("speed", "backtracking") };
    for (k, v) in [
        ("enable_verifier", verify),
        ("opt_level", opt),
        ("regalloc_algorithm", regalloc),
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
    ] {
        flags.set(k, v).map_err(|e| err(e.to_string()))?;
    }
    let isa = cranelift_native::builder()
        .map_err(|m| err(m.to_string()))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| err(e.to_string()))?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, addr, _, _) in math::symbols() {
        jb.symbol(name, addr);
    }
    Ok(JITModule::new(jb))
}

fn cl_err(kernel: &str, e: cranelift_module::ModuleError) -> CpuError {
    CpuError::Cranelift { kernel: kernel.to_string(), message: format!("{e:?}") }
}
