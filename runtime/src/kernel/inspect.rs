//! Inspection: the loop IR, the passes, CLIF, assembly, CUDA C, PTX and ptxas reports of an
//! instantiation, the same text `kiln inspect` and `KILN_DEBUG` show.

use super::{Kernel, INSPECT_GPU};
use crate::device::Device;
use crate::error::{Error, Result};
use kiln_ir::loops::LoopProgram;
use kiln_ir::lower::PassRecord;
use kiln_ir::DType;

impl Kernel {
    /// Microseconds spent lowering and JIT-compiling the instantiation `float` for the CPU
    /// (compiling it first if needed).
    pub fn cpu_compile_micros(&self, float: Option<DType>) -> Result<u128> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        let lower_us: u128 = lowered.passes.iter().map(|p| p.micros).sum();
        Ok(lower_us + self.cpu_program(&inst, u64::MAX)?.compile_micros())
    }

    /// Cranelift IR of every kernel of the instantiation `float`, before and after
    /// Cranelift's optimizer.
    pub fn clif(&self, float: Option<DType>) -> Result<String> {
        Ok(self.inspect_cpu(float)?.clif().to_string())
    }

    /// Machine code of every kernel of the instantiation `float`: x86 assembly with the
    /// `disas` feature, else Cranelift's listing of machine instructions.
    pub fn asm(&self, float: Option<DType>) -> Result<String> {
        Ok(self.inspect_cpu(float)?.asm().unwrap_or_default().to_string())
    }

    /// A separate compilation that keeps the inspection text (it costs compile time, so the
    /// cached program does not carry it).
    pub(super) fn inspect_cpu(&self, float: Option<DType>) -> Result<kiln_cpu::CpuProgram> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        let opts = kiln_cpu::CompileOptions { inspect: true, ..Default::default() };
        kiln_cpu::compile_with(&lowered.loops, &opts).map_err(|e| self.backend_error(Device::Cpu, e))
    }

    /// The CUDA C of the instantiation `float`: exactly the text NVRTC and the simulator
    /// compile.
    pub fn cuda(&self, float: Option<DType>) -> Result<String> {
        let inst = self.instance(float)?;
        Ok(self.cuda_program(&inst)?.source.clone())
    }

    /// PTX of the instantiation `float` for `arch` (NVRTC must be available; see
    /// `kiln_cuda::tools`).
    pub fn ptx(&self, float: Option<DType>, arch: kiln_cuda::nvrtc::Arch) -> Result<String> {
        let inst = self.instance(float)?;
        let source = &self.cuda_program(&inst)?.source;
        let compiled = kiln_cuda::nvrtc::compile_ptx(source, arch).map_err(|e| self.backend_error(INSPECT_GPU, e))?;
        Ok(compiled.ptx)
    }

    /// `ptxas -v`'s resource report (registers, spills, shared memory) of every kernel of the
    /// instantiation `float` for `arch`, with the threads per block each is launched with (so
    /// [`kiln_cuda::tools::KernelResources::occupancy`] answers).
    pub fn ptxas(
        &self,
        float: Option<DType>,
        arch: kiln_cuda::nvrtc::Arch,
    ) -> Result<Vec<kiln_cuda::tools::KernelResources>> {
        let ptx = self.ptx(float, arch)?;
        let mut report = kiln_cuda::tools::ptxas_report(&ptx, arch).map_err(|e| self.backend_error(INSPECT_GPU, e))?;
        let inst = self.instance(float)?;
        let program = self.cuda_program(&inst)?;
        for r in &mut report {
            if let Some(k) = program.kernels.iter().find(|k| k.name == r.name) {
                r.threads = k.launch.block_dim;
            }
        }
        Ok(report)
    }

    /// The program after each lowering pass, for the instantiation `float`
    /// (`None` for non-generic kernels).
    pub fn passes(&self, float: Option<DType>) -> Result<Vec<PassRecord>> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        if !lowered.passes.is_empty() {
            return Ok(lowered.passes.clone());
        }
        // Lowered without texts (the usual case): lower again, keeping them. Lowering is
        // deterministic, so this is the same loop IR; `lowering_count` counts only the lowering
        // that calls use.
        kiln_ir::lower::lower_traced(&inst.program)
            .map(|(_, passes)| passes)
            .map_err(|e| Error::Internal { kernel: self.name().into(), source: super::built_error(e) })
    }

    /// The loop IR for the instantiation `float`.
    pub fn loops(&self, float: Option<DType>) -> Result<LoopProgram> {
        let inst = self.instance(float)?;
        let lowered = self.lowered(&inst)?;
        Ok(lowered.loops.clone())
    }
}
