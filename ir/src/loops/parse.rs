//! Reading the loop IR text printed by `LoopProgram`'s `Display` back into a [`LoopProgram`].
//!
//! The parser is a small recursive descent over characters. It checks syntax and resolves
//! names (buffers, symbols); everything else (types, scopes, index safety) is the verifier's job.

use super::{BufId, BufKind, Buffer, Expr, Flag, Kernel, KernelHint, LoopProgram, Scalar, Stmt, Var};
use crate::program::{BinOp, UnOp};
use crate::types::{DType, Dim, SymId};
use thiserror::Error;

/// Why a loop IR text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseLoopError {
    #[error("loop ir line {line}: {message}")]
    Syntax { line: usize, message: String },
}

/// Parse the text form of a loop program (the inverse of its `Display`).
///
/// # Errors
/// [`ParseLoopError::Syntax`] with the line and what was expected.
pub fn parse_loop_program(text: &str) -> Result<LoopProgram, ParseLoopError> {
    let mut p = Parser { s: text.as_bytes(), pos: 0, prog: None };
    p.program()
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    prog: Option<LoopProgram>,
}

type R<T> = Result<T, ParseLoopError>;

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> R<T> {
        let line = self.s[..self.pos.min(self.s.len())].iter().filter(|&&c| c == b'\n').count() + 1;
        Err(ParseLoopError::Syntax { line, message: message.into() })
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> R<()> {
        if self.eat(c) {
            Ok(())
        } else {
            self.err(format!("expected `{}`", c as char))
        }
    }

    /// An identifier or number-like word: `[A-Za-z0-9_]+`.
    fn word(&mut self) -> R<String> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len() && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_') {
            self.pos += 1;
        }
        if start == self.pos {
            return self.err("expected a name");
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn keyword(&mut self, kw: &str) -> R<()> {
        let save = self.pos;
        let w = self.word()?;
        if w != kw {
            self.pos = save;
            return self.err(format!("expected `{kw}`, found `{w}`"));
        }
        Ok(())
    }

    fn peek_word(&mut self) -> Option<String> {
        let save = self.pos;
        let w = self.word().ok();
        self.pos = save;
        w
    }

    fn prog(&self) -> &LoopProgram {
        // Set at the start of `program`, before any name is resolved.
        self.prog.as_ref().expect("parser state: program header read")
    }

    fn dtype(&mut self) -> R<DType> {
        let w = self.word()?;
        match DType::from_name(&w) {
            Some(d) => Ok(d),
            None => self.err(format!("unknown dtype `{w}`")),
        }
    }

    fn dim(&mut self) -> R<Dim> {
        let w = self.word()?;
        if let Ok(c) = w.parse::<u64>() {
            return Ok(Dim::Const(c));
        }
        match self.prog().syms.iter().position(|s| *s == w) {
            Some(i) => Ok(Dim::Sym(SymId(i as u32))),
            None => self.err(format!("unknown symbol `{w}`")),
        }
    }

    fn var(&mut self) -> R<Var> {
        let w = self.word()?;
        match w.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()) {
            Some(n) => Ok(Var(n)),
            None => self.err(format!("expected a variable `vN`, found `{w}`")),
        }
    }

    fn buffer(&mut self) -> R<BufId> {
        let w = self.word()?;
        match self.prog().buffers.iter().position(|b| b.name == w) {
            Some(i) => Ok(BufId(i as u32)),
            None => self.err(format!("unknown buffer `{w}`")),
        }
    }

    fn program(&mut self) -> R<LoopProgram> {
        self.keyword("program")?;
        let name = self.word()?;
        self.prog = Some(LoopProgram {
            name,
            syms: vec![],
            params: vec![],
            buffers: vec![],
            kernels: vec![],
            outputs: vec![],
            derived: vec![],
        });
        while let Some(w) = self.peek_word() {
            self.word()?;
            match w.as_str() {
                "sym" => {
                    let s = self.word()?;
                    self.prog.as_mut().expect("set above").syms.push(s);
                }
                "derive" => {
                    let Dim::Sym(sym) = self.dim()? else { return self.err("expected a derived symbol's name") };
                    self.expect(b'=')?;
                    let def = self.sym_def()?;
                    self.prog.as_mut().expect("set above").derived.push(crate::program::DerivedSym { sym, def });
                }
                "in" | "out" | "temp" => self.buffer_decl(&w)?,
                "kernel" => {
                    let k = self.kernel()?;
                    self.prog.as_mut().expect("set above").kernels.push(k);
                }
                _ => {
                    return self.err(format!("expected `sym`, `derive`, `in`, `out`, `temp` or `kernel`, found `{w}`"))
                }
            }
        }
        if self.peek().is_some() {
            return self.err("unexpected text after the program");
        }
        Ok(self.prog.take().expect("set above"))
    }

    /// A slice bound if one is next: a signed integer or `pK`.
    fn slice_bound(&mut self) -> R<Option<crate::program::SliceBound>> {
        use crate::program::SliceBound;
        let neg = self.eat(b'-');
        match self.peek() {
            Some(b'p') if !neg => {
                let w = self.word()?;
                match w[1..].parse::<u32>() {
                    Ok(k) => Ok(Some(SliceBound::Param(k))),
                    Err(_) => self.err(format!("expected a parameter bound `pK`, found `{w}`")),
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let w = self.word()?;
                let text = if neg { format!("-{w}") } else { w };
                match text.parse::<i64>() {
                    Ok(v) => Ok(Some(SliceBound::Const(v))),
                    Err(_) => self.err(format!("expected an i64 slice bound, found `{text}`")),
                }
            }
            _ if neg => self.err("expected digits after `-`"),
            _ => Ok(None),
        }
    }

    /// What follows `derive S =`: `dim[range]`, `param pK` or `OP dim dim` (a keyword
    /// followed by `[` is a symbol with that name, sliced).
    fn sym_def(&mut self) -> R<crate::program::SymDef> {
        use crate::program::{DimOp, SymDef};
        let save = self.pos;
        let w = self.word()?;
        let sliced = self.peek() == Some(b'[');
        if w == "param" && !sliced {
            let p = self.word()?;
            return match p.strip_prefix('p').and_then(|n| n.parse::<u32>().ok()) {
                Some(k) => Ok(SymDef::Param(k)),
                None => self.err(format!("expected a parameter `pN`, found `{p}`")),
            };
        }
        if let Some(op) = DimOp::from_name(&w).filter(|_| !sliced) {
            let a = self.dim()?;
            let b = self.dim()?;
            return Ok(SymDef::Arith(op, a, b));
        }
        self.pos = save;
        let of = self.dim()?;
        self.expect(b'[')?;
        let range = self.slice_range()?;
        self.expect(b']')?;
        Ok(SymDef::Slice { of, range })
    }

    /// `start..end;step`, each part optional (the step defaults to 1).
    fn slice_range(&mut self) -> R<crate::program::SliceRange> {
        let start = self.slice_bound()?;
        self.expect(b'.')?;
        self.expect(b'.')?;
        let end = self.slice_bound()?;
        let step = if self.eat(b';') {
            match self.slice_bound()? {
                Some(crate::program::SliceBound::Const(s)) => s,
                _ => return self.err("expected an integer slice step after `;`"),
            }
        } else {
            1
        };
        Ok(crate::program::SliceRange { start, end, step })
    }

    fn buffer_decl(&mut self, kw: &str) -> R<()> {
        let name = self.word()?;
        self.expect(b':')?;
        let dtype = self.dtype()?;
        self.expect(b'[')?;
        let mut shape = vec![];
        if !self.eat(b']') {
            loop {
                shape.push(self.dim()?);
                if self.eat(b']') {
                    break;
                }
                self.expect(b',')?;
            }
        }
        let kind = match kw {
            "in" => BufKind::Input,
            "out" => BufKind::Output,
            _ => BufKind::Temp,
        };
        let prog = self.prog.as_mut().expect("set above");
        let id = BufId(prog.buffers.len() as u32);
        if prog.buffers.iter().any(|b| b.name == name) {
            return self.err(format!("buffer `{name}` declared twice"));
        }
        prog.buffers.push(Buffer { name, kind, dtype, shape });
        match kind {
            BufKind::Input => prog.params.push(id),
            BufKind::Output => prog.outputs.push(id),
            BufKind::Temp => {}
        }
        Ok(())
    }

    fn kernel(&mut self) -> R<Kernel> {
        let name = self.word()?;
        self.expect(b'(')?;
        let mut domain = vec![];
        if !self.eat(b')') {
            loop {
                let v = self.var()?;
                self.expect(b'<')?;
                domain.push((v, self.dim()?));
                if self.eat(b')') {
                    break;
                }
                self.expect(b',')?;
            }
        }
        let mut hint = KernelHint::Plain;
        if self.peek() != Some(b'{') {
            let w = self.word()?;
            hint = match KernelHint::from_keyword(&w) {
                Some(h) => h,
                None => {
                    return self.err(format!(
                        "expected a kernel hint (`serial`, `two_phase`, `scatter`, `gemm`, `scan`, `sort`) or `{{`, found `{w}`"
                    ))
                }
            };
        }
        let body = self.block()?;
        Ok(Kernel { name, domain, hint, body })
    }

    fn block(&mut self) -> R<Vec<Stmt>> {
        self.expect(b'{')?;
        let mut body = vec![];
        while !self.eat(b'}') {
            if self.peek().is_none() {
                return self.err("unclosed `{`");
            }
            body.push(self.stmt()?);
        }
        Ok(body)
    }

    fn stmt(&mut self) -> R<Stmt> {
        let w = self.word()?;
        Ok(match w.as_str() {
            "let" | "mut" => {
                let var = self.var()?;
                self.expect(b':')?;
                let ty = self.dtype()?;
                self.expect(b'=')?;
                let value = self.expr()?;
                if w == "let" {
                    Stmt::Let { var, ty, value }
                } else {
                    Stmt::Mut { var, ty, init: value }
                }
            }
            "store" => {
                let buf = self.buffer()?;
                let idx = self.index_list()?;
                self.expect(b'=')?;
                Stmt::Store { buf, idx, value: self.expr()? }
            }
            "for" => {
                let var = self.var()?;
                self.expect(b'<')?;
                let extent = self.dim()?;
                if self.peek_word().as_deref() == Some("from") {
                    self.keyword("from")?;
                    let start = self.expr()?;
                    self.keyword("to")?;
                    let end = self.expr()?;
                    return Ok(Stmt::ForRange { var, extent, start, end, body: self.block()? });
                }
                Stmt::For { var, extent, body: self.block()? }
            }
            "if" => {
                let cond = self.expr()?;
                let then = self.block()?;
                let els = if self.peek_word().as_deref() == Some("else") {
                    self.keyword("else")?;
                    self.block()?
                } else {
                    vec![]
                };
                Stmt::If { cond, then, els }
            }
            "flag" => {
                let name = self.word()?;
                match Flag::ALL.into_iter().find(|f| f.name() == name) {
                    Some(f) => Stmt::Flag(f),
                    None => return self.err(format!("unknown flag `{name}`")),
                }
            }
            v if v.starts_with('v') => {
                let save = self.pos;
                self.pos -= v.len();
                let var = match self.var() {
                    Ok(var) => var,
                    Err(_) => {
                        self.pos = save;
                        return self.err(format!("unknown statement `{v}`"));
                    }
                };
                self.expect(b'=')?;
                Stmt::Assign { var, value: self.expr()? }
            }
            _ => return self.err(format!("unknown statement `{w}`")),
        })
    }

    fn index_list(&mut self) -> R<Vec<Expr>> {
        self.expect(b'[')?;
        let mut idx = vec![];
        if !self.eat(b']') {
            loop {
                idx.push(self.expr()?);
                if self.eat(b']') {
                    break;
                }
                self.expect(b',')?;
            }
        }
        Ok(idx)
    }

    fn args(&mut self, n: usize) -> R<Vec<Expr>> {
        self.expect(b'(')?;
        let mut a = vec![];
        for i in 0..n {
            if i > 0 {
                self.expect(b',')?;
            }
            a.push(self.expr()?);
        }
        self.expect(b')')?;
        Ok(a)
    }

    fn constant(&mut self, dtype: DType) -> R<Expr> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || matches!(self.s[self.pos], b'-' | b'+' | b'.' | b'_'))
        {
            self.pos += 1;
        }
        let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        match Scalar::parse(dtype, &text) {
            Some(c) => Ok(Expr::Const(c)),
            None => self.err(format!("bad {dtype} constant `{text}`")),
        }
    }

    fn expr(&mut self) -> R<Expr> {
        let w = self.word()?;
        if let Some(d) = DType::from_name(&w) {
            self.expect(b':')?;
            return self.constant(d);
        }
        let one = |a: Vec<Expr>| a.into_iter().next().map(Box::new);
        match w.as_str() {
            "dim" => {
                self.expect(b'(')?;
                let d = self.dim()?;
                self.expect(b')')?;
                Ok(Expr::Dim(d))
            }
            "load" => {
                let buf = self.buffer()?;
                Ok(Expr::Load { buf, idx: self.index_list()? })
            }
            "check" => {
                self.expect(b'(')?;
                let e = self.expr()?;
                self.expect(b',')?;
                let d = self.dim()?;
                self.expect(b')')?;
                Ok(Expr::Check(Box::new(e), d))
            }
            "select" => {
                let mut a = self.args(3)?.into_iter().map(Box::new);
                match (a.next(), a.next(), a.next()) {
                    (Some(c), Some(x), Some(y)) => Ok(Expr::Select(c, x, y)),
                    _ => self.err("select takes 3 operands"),
                }
            }
            "mul_add" => {
                let mut a = self.args(3)?.into_iter().map(Box::new);
                match (a.next(), a.next(), a.next()) {
                    (Some(x), Some(y), Some(z)) => Ok(Expr::MulAdd(x, y, z)),
                    _ => self.err("mul_add takes 3 operands"),
                }
            }
            "cast" => {
                self.expect(b'.')?;
                let t = self.dtype()?;
                let a = self.args(1)?;
                match one(a) {
                    Some(a) => Ok(Expr::Cast(t, a)),
                    None => self.err("cast takes 1 operand"),
                }
            }
            "bitcast" => {
                self.expect(b'.')?;
                let t = self.dtype()?;
                let a = self.args(1)?;
                match one(a) {
                    Some(a) => Ok(Expr::Bitcast(t, a)),
                    None => self.err("bitcast takes 1 operand"),
                }
            }
            "powi" => {
                self.expect(b'.')?;
                let neg = self.eat(b'-');
                let n = self.word()?;
                let Ok(n) = n.parse::<i32>() else { return self.err(format!("bad powi exponent `{n}`")) };
                let a = self.args(1)?;
                match one(a) {
                    Some(a) => Ok(Expr::Unary(UnOp::PowI(if neg { -n } else { n }), a)),
                    None => self.err("powi takes 1 operand"),
                }
            }
            name => {
                if let Some(op) = UnOp::ALL.into_iter().find(|u| u.name() == name) {
                    let a = self.args(1)?;
                    return match one(a) {
                        Some(a) => Ok(Expr::Unary(op, a)),
                        None => self.err("unary op takes 1 operand"),
                    };
                }
                if let Some(op) = BinOp::ALL.into_iter().find(|b| b.name() == name) {
                    let mut a = self.args(2)?.into_iter();
                    return match (a.next(), a.next()) {
                        (Some(x), Some(y)) => Ok(Expr::binary(op, x, y)),
                        _ => self.err("binary op takes 2 operands"),
                    };
                }
                if let Some(n) = name.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()) {
                    return Ok(Expr::Var(Var(n)));
                }
                self.err(format!("unknown expression `{name}`"))
            }
        }
    }
}
