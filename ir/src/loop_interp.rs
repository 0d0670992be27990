//! The loop IR interpreter: executes a [`LoopProgram`] literally and serially (every kernel's
//! domain in row-major order, statements in order), so lowering can be tested against
//! [`crate::interp`] before any native backend exists, and backends can be tested against it.
//!
//! What each op computes is [`crate::scalar`]'s, the definition the array interpreter and
//! constant folding share. A raised flag ends the call with the matching error
//! after the kernel that raised it.

use crate::loops::{Expr, Flag, Frame, FrameError, LoopProgram, Stmt, Var};
use crate::scalar::Scalar;
use crate::types::Dim;
use crate::value::Value;
use thiserror::Error;

/// Why a loop program could not run, or what went wrong while it ran.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LoopInterpError {
    /// The arguments do not fit the parameters, or the buffers cannot be allocated.
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("kernel `{kernel}`: index out of range")]
    IndexOutOfRange { kernel: String },
    #[error("kernel `{kernel}`: argmin/argmax of an empty array")]
    EmptyArgReduce { kernel: String },
    /// The program broke a verifier invariant (run [`crate::loops::verify_loops`] first).
    #[error("kernel `{kernel}`: invalid loop program: {message}")]
    Invalid { kernel: String, message: String },
}

/// Run `lp` on `args` (one per parameter) and return its outputs.
///
/// # Errors
/// Argument mismatches, raised flags, and malformed (unverified) programs.
pub fn run_loops(lp: &LoopProgram, args: &[Value]) -> Result<Vec<Value>, LoopInterpError> {
    let frame = Frame::of_values(lp, args)?;
    let syms: Vec<usize> = frame.syms.iter().map(|&s| s.max(0) as usize).collect();
    let mut bufs: Vec<Value> = Vec::with_capacity(lp.buffers.len());
    for (i, b) in frame.bufs.iter().enumerate() {
        bufs.push(match b.param.and_then(|k| args.get(k)) {
            Some(v) => v.clone(),
            None => frame.alloc(i)?,
        });
    }
    let nvars = lp.next_var() as usize;
    for k in &lp.kernels {
        let mut m = Machine {
            lp,
            syms: &syms,
            bufs: &mut bufs,
            vars: vec![Scalar::I64(0); nvars],
            flags: vec![],
            kernel: &k.name,
        };
        let extents: Vec<usize> = k.domain.iter().map(|(_, d)| dim(*d, &syms)).collect();
        let total: usize = extents.iter().product();
        for flat in 0..total {
            let mut rest = flat;
            for ((v, _), e) in k.domain.iter().zip(&extents).rev() {
                m.set(*v, Scalar::I64((rest % e) as i64))?;
                rest /= e;
            }
            m.stmts(&k.body)?;
        }
        if let Some(f) = m.flags.first() {
            let kernel = k.name.clone();
            return Err(match f {
                Flag::EmptyArgReduce => LoopInterpError::EmptyArgReduce { kernel },
                _ => LoopInterpError::IndexOutOfRange { kernel },
            });
        }
    }
    Ok(lp.outputs.iter().map(|o| bufs[o.index()].clone()).collect())
}

fn dim(d: Dim, syms: &[usize]) -> usize {
    match d {
        Dim::Const(c) => c as usize,
        Dim::Sym(s) => syms.get(s.0 as usize).copied().unwrap_or(0),
    }
}

struct Machine<'a> {
    lp: &'a LoopProgram,
    syms: &'a [usize],
    bufs: &'a mut Vec<Value>,
    vars: Vec<Scalar>,
    flags: Vec<Flag>,
    kernel: &'a str,
}

type R<T> = Result<T, LoopInterpError>;

impl Machine<'_> {
    fn invalid<T>(&self, message: impl Into<String>) -> R<T> {
        Err(LoopInterpError::Invalid { kernel: self.kernel.to_string(), message: message.into() })
    }

    fn set(&mut self, v: Var, x: Scalar) -> R<()> {
        match self.vars.get_mut(v.0 as usize) {
            Some(slot) => {
                *slot = x;
                Ok(())
            }
            None => self.invalid(format!("unknown variable {v}")),
        }
    }

    fn stmts(&mut self, body: &[Stmt]) -> R<()> {
        for s in body {
            match s {
                Stmt::Let { var, value, .. } | Stmt::Mut { var, init: value, .. } | Stmt::Assign { var, value } => {
                    let x = self.expr(value)?;
                    self.set(*var, x)?;
                }
                Stmt::Store { buf, idx, value } => {
                    let x = self.expr(value)?;
                    let ix = self.index(buf.index(), idx)?;
                    let Some(b) = self.bufs.get_mut(buf.index()) else { return self.invalid("unknown buffer") };
                    if !b.set(&ix, x) {
                        return self.invalid("store out of bounds or of the wrong dtype");
                    }
                }
                Stmt::For { var, extent, body } => {
                    for i in 0..dim(*extent, self.syms) {
                        self.set(*var, Scalar::I64(i as i64))?;
                        self.stmts(body)?;
                    }
                }
                Stmt::ForRange { var, extent, start, end, body } => {
                    let lo = self.expr(start)?.as_i64().max(0);
                    let hi = self.expr(end)?.as_i64().min(dim(*extent, self.syms) as i64);
                    for i in lo..hi {
                        self.set(*var, Scalar::I64(i))?;
                        self.stmts(body)?;
                    }
                }
                Stmt::If { cond, then, els } => {
                    if self.expr(cond)?.as_bool() {
                        self.stmts(then)?;
                    } else {
                        self.stmts(els)?;
                    }
                }
                Stmt::Flag(f) => self.flags.push(*f),
            }
        }
        Ok(())
    }

    fn index(&mut self, buf: usize, idx: &[Expr]) -> R<Vec<usize>> {
        let mut ix = Vec::with_capacity(idx.len());
        for e in idx {
            let i = self.expr(e)?.as_i64();
            if i < 0 {
                return self.invalid(format!("negative index into `{}`", self.lp.buffers[buf].name));
            }
            ix.push(i as usize);
        }
        Ok(ix)
    }

    fn expr(&mut self, e: &Expr) -> R<Scalar> {
        Ok(match e {
            Expr::Var(v) => match self.vars.get(v.0 as usize) {
                Some(x) => *x,
                None => return self.invalid(format!("unknown variable {v}")),
            },
            Expr::Const(c) => *c,
            Expr::Dim(d) => Scalar::I64(dim(*d, self.syms) as i64),
            Expr::Load { buf, idx } => {
                let ix = self.index(buf.index(), idx)?;
                match self.bufs.get(buf.index()).and_then(|b| b.get(&ix)) {
                    Some(x) => x,
                    None => return self.invalid("load out of bounds"),
                }
            }
            Expr::Check(i, d) => {
                let i = self.expr(i)?.as_i64();
                if i >= 0 && (i as u64) < dim(*d, self.syms) as u64 {
                    Scalar::I64(i)
                } else {
                    self.flags.push(Flag::IndexOutOfRange);
                    Scalar::I64(0)
                }
            }
            Expr::Unary(op, a) => {
                let a = self.expr(a)?;
                match a.unary(*op) {
                    Some(x) => x,
                    None => return self.invalid(format!("{} of {}", op.name(), a.dtype())),
                }
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                match Scalar::binary(*op, a, b) {
                    Some(x) => x,
                    None => return self.invalid(format!("{} of {} and {}", op.name(), a.dtype(), b.dtype())),
                }
            }
            Expr::Select(c, a, b) => {
                if self.expr(c)?.as_bool() {
                    self.expr(a)?
                } else {
                    self.expr(b)?
                }
            }
            Expr::MulAdd(a, b, c) => {
                let (a, b, c) = (self.expr(a)?, self.expr(b)?, self.expr(c)?);
                match Scalar::mul_add(a, b, c) {
                    Some(x) => x,
                    None => return self.invalid(format!("mul_add of {}, {} and {}", a.dtype(), b.dtype(), c.dtype())),
                }
            }
            Expr::Cast(t, a) => self.expr(a)?.cast(*t),
            Expr::Bitcast(t, a) => {
                let a = self.expr(a)?;
                match a.bitcast(*t) {
                    Some(x) => x,
                    None => return self.invalid(format!("bitcast from {} to {t}", a.dtype())),
                }
            }
        })
    }
}
