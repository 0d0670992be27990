//! The `simplify` pass: constant folding, algebraic identities, common-subexpression
//! elimination and dead-node elimination, in one forward sweep plus a renumbering.
//!
//! Every rewrite is exact (bit-for-bit the same results): `x * 1`, `x / 1`, `x - 0` for every
//! type (`0`, not `-0.0`), but `x + 0` only for integers (for floats `-0.0 + 0.0` is `+0.0`);
//! `2 * x` becomes `x + x`. Constant folding computes with [`crate::scalar`], the definition
//! both interpreters run; constants are equal (and merged) only when their bits are.

use crate::program::{BinOp, Literal, Node, NodeId, Op, Program, UnOp};
use crate::scalar::Scalar;
use crate::types::{DType, ElemTy, Type};
use std::collections::HashMap;

/// Simplify `p`; operands still precede users in the result.
pub fn simplify(p: &Program) -> Program {
    let mut out = Program { nodes: Vec::with_capacity(p.nodes.len()), ..p.clone() };
    let mut map: Vec<NodeId> = Vec::with_capacity(p.nodes.len());
    let mut seen: HashMap<String, NodeId> = HashMap::new();
    for n in &p.nodes {
        let mut op = n.op.clone();
        op.map_operands(|o| map[o.index()]);
        let op = match rewrite(&out, &op, &n.ty) {
            Rewrite::To(id) => {
                map.push(id);
                continue;
            }
            Rewrite::Op(op) => op,
            Rewrite::Keep => op,
        };
        let key = match &op {
            // `Debug` prints every NaN as `NaN`: float constants are told apart by their bits.
            Op::Const(Literal::Float(f)) => format!("Const(bits {:#x})|{:?}", f.to_bits(), n.ty),
            op => format!("{op:?}|{:?}", n.ty),
        };
        let id = *seen.entry(key).or_insert_with(|| out.push(op, n.ty.clone()));
        map.push(id);
    }
    out.outputs = p.outputs.iter().map(|o| map[o.index()]).collect();
    eliminate_dead(&out)
}

enum Rewrite {
    /// The node equals an existing one.
    To(NodeId),
    /// The node becomes this op (same type).
    Op(Op),
    Keep,
}

fn dtype(t: &Type) -> Option<DType> {
    match t.elem {
        ElemTy::Concrete(d) => Some(d),
        ElemTy::Float => None,
    }
}

/// The constant value of node `id`, if it is a constant.
fn constant(p: &Program, id: NodeId) -> Option<Scalar> {
    let n = p.node(id);
    match n.op {
        Op::Const(lit) if n.ty.is_scalar() => Some(Scalar::from_literal(lit, dtype(&n.ty)?)),
        _ => None,
    }
}

/// Whether node `id` is the constant `v`, bit for bit (so `-0.0` is not 0).
fn is_value(p: &Program, id: NodeId, v: i64) -> bool {
    let is = |c: Scalar| c.to_bits() == Scalar::I64(v).cast(c.dtype()).to_bits();
    constant(p, id).is_some_and(|c| c.dtype() != DType::Bool && is(c))
}

fn lit(s: Scalar) -> Rewrite {
    Rewrite::Op(Op::Const(s.to_literal()))
}

fn rewrite(p: &Program, op: &Op, ty: &Type) -> Rewrite {
    let same = |id: NodeId| p.node(id).ty == *ty;
    let Some(dt) = dtype(ty) else { return Rewrite::Keep };
    match op {
        Op::Unary(u, a) => {
            if let Some(c) = constant(p, *a).and_then(|c| c.unary(*u)) {
                if ty.is_scalar() {
                    return lit(c);
                }
            }
            if let (UnOp::Neg, Op::Unary(UnOp::Neg, x)) = (u, &p.node(*a).op) {
                if same(*x) {
                    return Rewrite::To(*x);
                }
            }
            Rewrite::Keep
        }
        Op::Binary(b, x, y) => {
            if let (Some(cx), Some(cy)) = (constant(p, *x), constant(p, *y)) {
                if let Some(c) = Scalar::binary(*b, cx, cy) {
                    if ty.is_scalar() && c.dtype() == dt {
                        return lit(c);
                    }
                }
            }
            let int = dt.is_int();
            let keep_x = match b {
                BinOp::Mul => is_value(p, *y, 1),
                BinOp::Div => is_value(p, *y, 1),
                BinOp::Sub => is_value(p, *y, 0),
                BinOp::Add => int && is_value(p, *y, 0),
                _ => false,
            };
            if keep_x && same(*x) {
                return Rewrite::To(*x);
            }
            let keep_y = match b {
                BinOp::Mul => is_value(p, *x, 1),
                BinOp::Add => int && is_value(p, *x, 0),
                _ => false,
            };
            if keep_y && same(*y) {
                return Rewrite::To(*y);
            }
            // `2 * v` is `v + v` exactly (and one constant fewer for a backend to keep in a
            // register through its loops).
            if *b == BinOp::Mul && dt != DType::Bool {
                for (k, v) in [(*x, *y), (*y, *x)] {
                    if is_value(p, k, 2) && same(v) {
                        return Rewrite::Op(Op::Binary(BinOp::Add, v, v));
                    }
                }
            }
            Rewrite::Keep
        }
        Op::Select(c, a, b) => {
            if a == b && same(*a) {
                return Rewrite::To(*a);
            }
            match constant(p, *c) {
                Some(Scalar::Bool(true)) if same(*a) => Rewrite::To(*a),
                Some(Scalar::Bool(false)) if same(*b) => Rewrite::To(*b),
                _ => Rewrite::Keep,
            }
        }
        Op::Cast(a) => {
            if same(*a) {
                return Rewrite::To(*a);
            }
            match constant(p, *a) {
                Some(c) if ty.is_scalar() => lit(c.cast(dt)),
                _ => Rewrite::Keep,
            }
        }
        Op::Broadcast(a) if same(*a) => Rewrite::To(*a),
        Op::Transpose(a, perm) if same(*a) && perm.iter().enumerate().all(|(i, &k)| i as u32 == k) => Rewrite::To(*a),
        Op::Const(Literal::Float(f)) if dt == DType::F32 && (*f as f32) as f64 != *f && !f.is_nan() => {
            // Canonical f32 constants, so equal values CSE and print the same.
            Rewrite::Op(Op::Const(Literal::Float(*f as f32 as f64)))
        }
        _ => Rewrite::Keep,
    }
}

/// Drop nodes no output depends on and renumber the rest in order.
fn eliminate_dead(p: &Program) -> Program {
    let mut live = vec![false; p.nodes.len()];
    for o in &p.outputs {
        live[o.index()] = true;
    }
    for i in (0..p.nodes.len()).rev() {
        if live[i] {
            for o in p.nodes[i].op.operands() {
                live[o.index()] = true;
            }
        }
    }
    let mut map = vec![NodeId(0); p.nodes.len()];
    let mut nodes: Vec<Node> = vec![];
    for (i, n) in p.nodes.iter().enumerate() {
        if live[i] {
            let mut n = n.clone();
            n.op.map_operands(|o| map[o.index()]);
            map[i] = NodeId(nodes.len() as u32);
            nodes.push(n);
        }
    }
    Program { nodes, outputs: p.outputs.iter().map(|o| map[o.index()]).collect(), ..p.clone() }
}
