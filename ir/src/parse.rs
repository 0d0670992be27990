//! The array IR's text format, reading side: [`parse_program`] turns the text that
//! `Display for Program` prints (see [`crate::print`]) back into the same [`Program`].
//!
//! Grammar (whitespace and newlines are insignificant; `//` starts a comment to end of line):
//!
//! ```text
//! program  := "kernel" IDENT ["<" "F" ">"] "(" [param ("," param)*] ")" "->" outputs
//!             "{" ["syms" IDENT ("," IDENT)*] derive* node* "return" [VALUE ("," VALUE)*] "}"
//! derive   := "derive" IDENT "=" symdef                  a derived symbol
//! symdef   := dim "[" range "]"                         a slice length
//!           | "param" PARAM                             an extent `k as usize`
//!           | ("add" | "sub" | "mul" | "div") dim dim   a computed extent (checked)
//! param    := IDENT ":" type
//! outputs  := type | "(" [type ("," type)*] ")"
//! type     := ELEM "[" [dim ("," dim)*] "]"           ELEM: f32 f64 i32 i64 u32 bool F
//! dim      := INTEGER | IDENT
//! node     := VALUE ":" type "=" op                    VALUE: v0, v1, ... in order
//! op       := "param" INTEGER | "const" literal | "dim" dim | "index" VAR
//!           | "unary" UNOP VALUE | "unary" "powi" "." INTEGER VALUE
//!           | "binary" BINOP VALUE VALUE | "select" VALUE VALUE VALUE
//!           | "cast" VALUE | "broadcast" VALUE | "transpose" VALUE "[" ints "]"
//!           | "insert_axis" VALUE INTEGER | "reduce" REDOP VALUE "axes" "[" ints "]"
//!           | "load" VALUE "[" [VALUE ("," VALUE)*] "]"
//!           | "generate" bindings VALUE | "range_reduce" REDOP bindings VALUE
//!           | "slice" VALUE "[" [axis ("," axis)*] "]"
//! axis     := range | bound                            a bound alone is an index
//! range    := [bound] "." "." [bound] [";" INTEGER]     ndarray's `start..end;step`
//! bound    := INTEGER | PARAM                          PARAM: p0, p1, ... (a parameter)
//! bindings := "(" [VAR "<" dim ("," VAR "<" dim)*] ")"  VAR: i0, i1, ...
//! ```
//!
//! The parser checks what the text alone decides: syntax, numbers in range, nodes numbered
//! in order, operands defined before use, symbols declared when a `syms` line is present,
//! `F` only in a kernel marked `<F>`, and the header's output types against the returned
//! nodes. Everything else (types follow op rules, index variables in scope, ...) is the
//! verifier's job ([`crate::verify::verify`]). It never panics, whatever the input.

use crate::program::{
    AxisSlice, BinOp, DerivedSym, DimOp, Literal, NodeId, Op, Param, Program, ReduceOp, SliceBound, SliceRange, SymDef,
    UnOp, VarId,
};
use crate::types::{DType, Dim, ElemTy, SymId, Type};
use std::str::FromStr;
use thiserror::Error;

/// Why a text is not a program: where (1-based line and column) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {col}: {message}")]
#[non_exhaustive]
pub struct ParseError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// Parse one kernel in the array IR text format.
///
/// # Errors
/// A [`ParseError`] naming the line, column and what was expected there.
pub fn parse_program(text: &str) -> Result<Program, ParseError> {
    let tokens = lex(text)?;
    Parser { tokens, pos: 0, syms: Vec::new(), generic_use: None }.program()
}

impl FromStr for Program {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Program, ParseError> {
        parse_program(s)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// A number as written (`3`, `-2`, `1.5`, `1e-7`); converted where its meaning is known.
    Num(String),
    Punct(char),
    Arrow,
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: u32,
    col: u32,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Num(s) => format!("`{s}`"),
        Tok::Punct(c) => format!("`{c}`"),
        Tok::Arrow => "`->`".into(),
        Tok::Eof => "end of input".into(),
    }
}

fn lex(text: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    // Advances over chars[i..j] on one line (tokens never span lines).
    while i < chars.len() {
        let c = chars[i];
        let start = (line, col);
        let mut j = i + 1;
        let tok = if c == '\n' {
            i += 1;
            line = line.saturating_add(1);
            col = 1;
            continue;
        } else if c.is_whitespace() {
            None
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while j < chars.len() && chars[j] != '\n' {
                j += 1;
            }
            None
        } else if c.is_ascii_alphabetic() || c == '_' {
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            Some(Tok::Ident(chars[i..j].iter().collect()))
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            j = lex_number(&chars, i);
            Some(Tok::Num(chars[i..j].iter().collect()))
        } else if c == '-' && chars.get(i + 1) == Some(&'>') {
            j = i + 2;
            Some(Tok::Arrow)
        } else if "()[]{}<>,:=.-;".contains(c) {
            Some(Tok::Punct(c))
        } else {
            return Err(ParseError { line, col, message: format!("unexpected character `{}`", c.escape_default()) });
        };
        if let Some(tok) = tok {
            tokens.push(Token { tok, line: start.0, col: start.1 });
        }
        col = col.saturating_add((j - i) as u32);
        i = j;
    }
    tokens.push(Token { tok: Tok::Eof, line, col });
    Ok(tokens)
}

/// End of the number starting at `i`: `-?digits(.digits)?([eE][+-]?digits)?`.
fn lex_number(chars: &[char], i: usize) -> usize {
    let digits = |mut j: usize| {
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut j = if chars[i] == '-' { i + 1 } else { i };
    j = digits(j);
    if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit()) {
        j = digits(j + 1);
    }
    if matches!(chars.get(j), Some('e' | 'E')) {
        let k = if matches!(chars.get(j + 1), Some('+' | '-')) { j + 2 } else { j + 1 };
        if chars.get(k).is_some_and(|c| c.is_ascii_digit()) {
            j = digits(k);
        }
    }
    j
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Symbol names in order of first appearance, with where each first appeared.
    syms: Vec<(String, u32, u32)>,
    /// Where the generic float `F` was first used, if anywhere.
    generic_use: Option<(u32, u32)>,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with `Eof` and `pos` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn err_at<T>(&self, t: &Token, message: String) -> PResult<T> {
        Err(ParseError { line: t.line, col: t.col, message })
    }

    fn expected<T>(&self, what: &str) -> PResult<T> {
        let t = self.peek().clone();
        self.err_at(&t, format!("expected {what}, found {}", describe(&t.tok)))
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.is_punct(c);
        if yes {
            self.bump();
        }
        yes
    }

    fn punct(&mut self, c: char) -> PResult<()> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.expected(&format!("`{c}`"))
        }
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == kw)
    }

    fn keyword(&mut self, kw: &str) -> PResult<()> {
        if self.is_keyword(kw) {
            self.bump();
            Ok(())
        } else {
            self.expected(&format!("`{kw}`"))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<String> {
        match &self.peek().tok {
            Tok::Ident(s) => {
                let s = s.clone();
                self.bump();
                Ok(s)
            }
            _ => self.expected(what),
        }
    }

    /// An integer of type `T` (u32 for axes, u64 for dims, ...).
    fn int<T: FromStr>(&mut self, what: &str) -> PResult<T> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(s) => match s.parse::<T>() {
                Ok(v) => {
                    self.bump();
                    Ok(v)
                }
                Err(_) => self.err_at(&t, format!("expected {what}, found `{s}` (not an integer in range)")),
            },
            _ => self.expected(what),
        }
    }

    /// A prefixed number such as `v3` or `i2`.
    fn prefixed(&mut self, prefix: char, what: &str) -> PResult<u32> {
        let t = self.peek().clone();
        if let Tok::Ident(s) = &t.tok {
            if let Some(rest) = s.strip_prefix(prefix) {
                if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                    return match rest.parse::<u32>() {
                        Ok(n) => {
                            self.bump();
                            Ok(n)
                        }
                        Err(_) => self.err_at(&t, format!("{what} `{s}` is out of range")),
                    };
                }
            }
        }
        self.expected(what)
    }

    /// An operand: a value defined by an earlier line.
    fn operand(&mut self, defined: usize) -> PResult<NodeId> {
        let t = self.peek().clone();
        let n = self.prefixed('v', "a value (`v0`, `v1`, ...)")?;
        if n as usize >= defined {
            return self.err_at(&t, format!("`v{n}` is used before it is defined"));
        }
        Ok(NodeId(n))
    }

    fn var(&mut self) -> PResult<VarId> {
        self.prefixed('i', "an index variable (`i0`, `i1`, ...)").map(VarId)
    }

    /// What follows `derive S =`: `dim[range]`, `param pK` or `OP dim dim` (a keyword
    /// followed by `[` is a symbol with that name, sliced).
    fn sym_def(&mut self) -> PResult<SymDef> {
        let keyword = match &self.peek().tok {
            Tok::Ident(w) if self.tokens.get(self.pos + 1).is_some_and(|t| t.tok != Tok::Punct('[')) => Some(w.clone()),
            _ => None,
        };
        if keyword.as_deref() == Some("param") {
            self.bump();
            return Ok(SymDef::Param(self.prefixed('p', "a parameter (`p0`, `p1`, ...)")?));
        }
        if let Some(op) = keyword.as_deref().and_then(DimOp::from_name) {
            self.bump();
            let a = self.dim()?;
            let b = self.dim()?;
            return Ok(SymDef::Arith(op, a, b));
        }
        let of = self.dim()?;
        self.punct('[')?;
        let t = self.peek().clone();
        let Ok(range) = self.slice_range_or_index()? else {
            return self.err_at(&t, "expected a slice range (`a..b;s`)".to_string());
        };
        self.punct(']')?;
        Ok(SymDef::Slice { of, range })
    }

    fn dim(&mut self) -> PResult<Dim> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(_) => self.int::<u64>("a dimension (a symbol or a non-negative integer)").map(Dim::Const),
            Tok::Ident(name) => {
                self.bump();
                let i = match self.syms.iter().position(|(s, _, _)| s == name) {
                    Some(i) => i,
                    None => {
                        self.syms.push((name.clone(), t.line, t.col));
                        self.syms.len() - 1
                    }
                };
                Ok(Dim::Sym(SymId(i as u32)))
            }
            _ => self.expected("a dimension (a symbol or a non-negative integer)"),
        }
    }

    fn ty(&mut self) -> PResult<Type> {
        let t = self.peek().clone();
        let elem = match &t.tok {
            Tok::Ident(s) if s == "F" => {
                self.generic_use.get_or_insert((t.line, t.col));
                ElemTy::Float
            }
            Tok::Ident(s) => match DType::from_name(s) {
                Some(d) => ElemTy::Concrete(d),
                None => return self.expected("an element type (f32, f64, i32, i64, u32, bool or F)"),
            },
            _ => return self.expected("an element type (f32, f64, i32, i64, u32, bool or F)"),
        };
        self.bump();
        self.punct('[')?;
        let mut shape = Vec::new();
        if !self.eat_punct(']') {
            loop {
                shape.push(self.dim()?);
                if self.eat_punct(']') {
                    break;
                }
                self.punct(',')?;
            }
        }
        Ok(Type { elem, shape })
    }

    /// `[a, b, c]` of items read by `item`.
    fn bracket_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        self.punct('[')?;
        let mut v = Vec::new();
        if self.eat_punct(']') {
            return Ok(v);
        }
        loop {
            v.push(item(self)?);
            if self.eat_punct(']') {
                return Ok(v);
            }
            self.punct(',')?;
        }
    }

    fn bindings(&mut self) -> PResult<(Vec<VarId>, Vec<Dim>)> {
        self.punct('(')?;
        let (mut vars, mut extents) = (Vec::new(), Vec::new());
        if self.eat_punct(')') {
            return Ok((vars, extents));
        }
        loop {
            vars.push(self.var()?);
            self.punct('<')?;
            extents.push(self.dim()?);
            if self.eat_punct(')') {
                return Ok((vars, extents));
            }
            self.punct(',')?;
        }
    }

    fn literal(&mut self) -> PResult<Literal> {
        let t = self.peek().clone();
        let what = "a constant (an integer, a float, `inf`, `NaN`, `true` or `false`)";
        let lit = match &t.tok {
            Tok::Ident(s) if s == "true" => Literal::Bool(true),
            Tok::Ident(s) if s == "false" => Literal::Bool(false),
            Tok::Ident(s) if s == "inf" => Literal::Float(f64::INFINITY),
            Tok::Ident(s) if s == "NaN" => Literal::Float(f64::NAN),
            Tok::Punct('-') => {
                self.bump();
                if self.is_keyword("inf") {
                    Literal::Float(f64::NEG_INFINITY)
                } else {
                    return self.expected("`inf` after `-`");
                }
            }
            Tok::Num(s) if s.contains(['.', 'e', 'E']) => match s.parse::<f64>() {
                Ok(x) => Literal::Float(x),
                Err(_) => return self.err_at(&t, format!("expected {what}, found `{s}`")),
            },
            Tok::Num(s) => match s.parse::<i64>() {
                Ok(x) => Literal::Int(x),
                Err(_) => return self.err_at(&t, format!("integer constant `{s}` does not fit in i64")),
            },
            _ => return self.expected(what),
        };
        self.bump();
        Ok(lit)
    }

    /// A slice bound, if one is next: an integer or `pN`.
    fn slice_bound(&mut self) -> PResult<Option<SliceBound>> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(_) => Ok(Some(SliceBound::Const(self.int("a slice bound (an i64)")?))),
            Tok::Ident(s) if s.starts_with('p') => Ok(Some(SliceBound::Param(self.prefixed('p', "a parameter")?))),
            _ => Ok(None),
        }
    }

    /// `start..end;step` (each part optional) or a bare bound (an index).
    fn slice_range_or_index(&mut self) -> PResult<Result<SliceRange, SliceBound>> {
        let start = self.slice_bound()?;
        if !self.is_punct('.') {
            return match start {
                Some(b) => Ok(Err(b)),
                None => self.expected("a slice (`a..b;s`) or an index"),
            };
        }
        self.punct('.')?;
        self.punct('.')?;
        let end = self.slice_bound()?;
        let step = if self.eat_punct(';') { self.int("a slice step (an i64)")? } else { 1 };
        Ok(Ok(SliceRange { start, end, step }))
    }

    fn axis_slice(&mut self) -> PResult<AxisSlice> {
        Ok(match self.slice_range_or_index()? {
            Ok(r) => AxisSlice::Range(r),
            Err(b) => AxisSlice::Index(b),
        })
    }

    fn reduce_op(&mut self) -> PResult<ReduceOp> {
        let t = self.peek().clone();
        if let Tok::Ident(s) = &t.tok {
            if let Some(op) = ReduceOp::ALL.into_iter().find(|o| o.name() == s) {
                self.bump();
                return Ok(op);
            }
        }
        self.expected("a reduction (sum, prod, min, max, argmin, argmax)")
    }

    fn op(&mut self, n: usize) -> PResult<Op> {
        let t = self.peek().clone();
        let Tok::Ident(kw) = &t.tok else { return self.expected("an operation") };
        let kw = kw.clone();
        self.bump();
        Ok(match kw.as_str() {
            "param" => Op::Param(self.int("a parameter index")?),
            "const" => Op::Const(self.literal()?),
            "dim" => Op::DimValue(self.dim()?),
            "index" => Op::Index(self.var()?),
            "unary" => {
                let name = self.peek().clone();
                let u = match &name.tok {
                    Tok::Ident(s) if s == "powi" => {
                        self.bump();
                        self.punct('.')?;
                        UnOp::PowI(self.int("an i32 exponent after `powi.`")?)
                    }
                    Tok::Ident(s) => match UnOp::ALL.into_iter().find(|u| u.name() == s) {
                        Some(u) => {
                            self.bump();
                            u
                        }
                        None => return self.expected("a unary op (neg, not, abs, exp, ln, ..., powi.N)"),
                    },
                    _ => return self.expected("a unary op (neg, not, abs, exp, ln, ..., powi.N)"),
                };
                Op::Unary(u, self.operand(n)?)
            }
            "binary" => {
                let name = self.peek().clone();
                let b = match &name.tok {
                    Tok::Ident(s) => BinOp::ALL.into_iter().find(|b| b.name() == s),
                    _ => None,
                };
                let Some(b) = b else { return self.expected("a binary op (add, sub, mul, ..., xor)") };
                self.bump();
                Op::Binary(b, self.operand(n)?, self.operand(n)?)
            }
            "select" => Op::Select(self.operand(n)?, self.operand(n)?, self.operand(n)?),
            "mul_add" => Op::MulAdd(self.operand(n)?, self.operand(n)?, self.operand(n)?),
            "cast" => Op::Cast(self.operand(n)?),
            "broadcast" => Op::Broadcast(self.operand(n)?),
            "transpose" => {
                let a = self.operand(n)?;
                Op::Transpose(a, self.bracket_list(|p| p.int("an axis"))?)
            }
            "insert_axis" => {
                let a = self.operand(n)?;
                Op::InsertAxis(a, self.int("an axis")?)
            }
            "reduce" => {
                let op = self.reduce_op()?;
                let arg = self.operand(n)?;
                self.keyword("axes")?;
                Op::Reduce { op, arg, axes: self.bracket_list(|p| p.int("an axis"))? }
            }
            "scan" => {
                let op = self.reduce_op()?;
                let arg = self.operand(n)?;
                self.keyword("axis")?;
                Op::Scan { op, arg, axis: self.int("an axis")? }
            }
            "topk" => {
                let largest = match self.peek().tok.clone() {
                    Tok::Ident(s) if s == "smallest" || s == "largest" => {
                        self.bump();
                        s == "largest"
                    }
                    _ => return self.expected("`smallest` or `largest`"),
                };
                let indices = match self.peek().tok.clone() {
                    Tok::Ident(s) if s == "values" || s == "indices" => {
                        self.bump();
                        s == "indices"
                    }
                    _ => return self.expected("`values` or `indices`"),
                };
                let arg = self.operand(n)?;
                self.keyword("axis")?;
                let axis = self.int("an axis")?;
                self.keyword("k")?;
                Op::TopK { arg, axis, k: self.dim()?, largest, indices }
            }
            "sort" | "argsort" => {
                let arg = self.operand(n)?;
                self.keyword("axis")?;
                Op::Sort { arg, axis: self.int("an axis")?, indices: kw == "argsort" }
            }
            "load" => {
                let array = self.operand(n)?;
                Op::Load { array, indices: self.bracket_list(|p| p.operand(n))? }
            }
            "generate" => {
                let (vars, extents) = self.bindings()?;
                Op::Generate { vars, extents, body: self.operand(n)? }
            }
            "slice" => {
                let a = self.operand(n)?;
                Op::Slice(a, self.bracket_list(|p| p.axis_slice())?)
            }
            "range_reduce" => {
                let op = self.reduce_op()?;
                let (vars, extents) = self.bindings()?;
                Op::RangeReduce { op, vars, extents, body: self.operand(n)? }
            }
            other => {
                return self.err_at(&t, format!("expected an operation (param, const, binary, ...), found `{other}`"))
            }
        })
    }

    fn program(mut self) -> PResult<Program> {
        self.keyword("kernel")?;
        let name = self.ident("the kernel's name")?;
        let mut generic = false;
        if self.eat_punct('<') {
            self.keyword("F")?;
            self.punct('>')?;
            generic = true;
        }
        self.punct('(')?;
        let mut params = Vec::new();
        if !self.eat_punct(')') {
            loop {
                let pname = self.ident("a parameter name")?;
                self.punct(':')?;
                params.push(Param { name: pname, ty: self.ty()? });
                if self.eat_punct(')') {
                    break;
                }
                self.punct(',')?;
            }
        }
        if self.peek().tok != Tok::Arrow {
            return self.expected("`->`");
        }
        self.bump();
        let mut declared_outs = Vec::new();
        if self.eat_punct('(') {
            if !self.eat_punct(')') {
                loop {
                    declared_outs.push(self.ty()?);
                    if self.eat_punct(')') {
                        break;
                    }
                    self.punct(',')?;
                }
            }
        } else {
            declared_outs.push(self.ty()?);
        }
        self.punct('{')?;
        let explicit_syms = if self.is_keyword("syms") {
            self.bump();
            let mut names: Vec<String> = Vec::new();
            loop {
                let t = self.peek().clone();
                let s = self.ident("a symbol name")?;
                if names.contains(&s) {
                    return self.err_at(&t, format!("symbol `{s}` is declared twice"));
                }
                names.push(s);
                if !self.eat_punct(',') {
                    break;
                }
            }
            Some(names)
        } else {
            None
        };
        let mut derived = Vec::new();
        while self.is_keyword("derive") {
            self.bump();
            let Dim::Sym(sym) = self.dim()? else { return self.expected("a derived symbol's name") };
            self.punct('=')?;
            let def = self.sym_def()?;
            derived.push(DerivedSym { sym, def });
        }
        let mut nodes = Vec::new();
        while !self.is_keyword("return") {
            let t = self.peek().clone();
            let id = self.prefixed('v', "a node (`v0: ...`) or `return`")?;
            if id as usize != nodes.len() {
                return self
                    .err_at(&t, format!("expected `v{}` (nodes are numbered in order), found `v{id}`", nodes.len()));
            }
            self.punct(':')?;
            let ty = self.ty()?;
            self.punct('=')?;
            let op = self.op(nodes.len())?;
            nodes.push(crate::program::Node { op, ty });
        }
        let ret = self.bump();
        let mut outputs = Vec::new();
        if !self.is_punct('}') {
            loop {
                outputs.push(self.operand(nodes.len())?);
                if !self.eat_punct(',') {
                    break;
                }
            }
        }
        self.punct('}')?;
        if self.peek().tok != Tok::Eof {
            return self.expected("end of input after the kernel's `}`");
        }
        if let (Some((line, col)), false) = (self.generic_use, generic) {
            let message = "the generic float `F` is used, but the kernel is not marked `<F>`".to_string();
            return Err(ParseError { line, col, message });
        }
        let syms = self.resolve_syms(explicit_syms, &mut params, &mut nodes, &mut declared_outs, &mut derived)?;
        let p = Program { name, syms, params, nodes, outputs, derived };
        if declared_outs.len() != p.outputs.len() {
            let message =
                format!("the header declares {} outputs, but `return` has {}", declared_outs.len(), p.outputs.len());
            return self.err_at(&ret, message);
        }
        for (k, (o, decl)) in p.outputs.iter().zip(&declared_outs).enumerate() {
            let actual = &p.node(*o).ty;
            if actual != decl {
                let message = format!(
                    "output {k} is declared `{}`, but `{o}` has type `{}`",
                    decl.display(&p),
                    actual.display(&p)
                );
                return self.err_at(&ret, message);
            }
        }
        Ok(p)
    }

    /// The program's symbol list; with a `syms` line, renumbers every dimension to it.
    fn resolve_syms(
        &self,
        explicit: Option<Vec<String>>,
        params: &mut [Param],
        nodes: &mut [crate::program::Node],
        outs: &mut [Type],
        derived: &mut [DerivedSym],
    ) -> PResult<Vec<String>> {
        let Some(list) = explicit else {
            return Ok(self.syms.iter().map(|(s, _, _)| s.clone()).collect());
        };
        let mut map = Vec::with_capacity(self.syms.len());
        for (s, line, col) in &self.syms {
            match list.iter().position(|x| x == s) {
                Some(i) => map.push(SymId(i as u32)),
                None => {
                    let message = format!("symbol `{s}` is not declared in the `syms` line");
                    return Err(ParseError { line: *line, col: *col, message });
                }
            }
        }
        let fix = |d: &mut Dim| {
            if let Dim::Sym(s) = d {
                // Every parsed symbol id indexes `self.syms`, which `map` covers entirely.
                if let Some(m) = map.get(s.0 as usize) {
                    *s = *m;
                }
            }
        };
        params.iter_mut().flat_map(|p| p.ty.shape.iter_mut()).for_each(fix);
        outs.iter_mut().flat_map(|t| t.shape.iter_mut()).for_each(fix);
        for d in derived.iter_mut() {
            let mut sym = Dim::Sym(d.sym);
            fix(&mut sym);
            if let Dim::Sym(s) = sym {
                d.sym = s;
            }
            match &mut d.def {
                SymDef::Slice { of, .. } => fix(of),
                SymDef::Param(_) => {}
                SymDef::Arith(_, a, b) => {
                    fix(a);
                    fix(b);
                }
            }
        }
        for n in nodes.iter_mut() {
            n.ty.shape.iter_mut().for_each(fix);
            match &mut n.op {
                Op::DimValue(d) | Op::TopK { k: d, .. } => fix(d),
                Op::Generate { extents, .. } | Op::RangeReduce { extents, .. } => extents.iter_mut().for_each(fix),
                _ => {}
            }
        }
        Ok(list)
    }
}
