//! kiln-ir: the array IR, the loop IR, the lowering passes between them, their verifier and
//! text format, and the reference interpreter that defines what every op means.
//!
//! The crate has no heavy dependencies and no backend: it builds and tests anywhere.
//!
//! Files in the order data flows: `types`, `program` (array IR), `verify`, `print`/`parse`
//! (text), `lower` + `passes/` (array IR -> loop IR), `loops` (loop IR), `scalar` (what every
//! op computes on one element), `interp` (the executable semantics of the array IR),
//! `loop_interp` (of the loop IR).

#![forbid(unsafe_code)]

pub mod interp;
pub mod loop_interp;
pub mod loops;
pub mod lower;
pub mod parse;
pub mod passes;
pub mod print;
pub mod program;
pub mod scalar;
pub mod shapes;
pub mod testgen;
pub mod types;
pub mod value;
pub mod verify;

pub use program::{
    AxisSlice, BinOp, DerivedSym, DimOp, Literal, Node, NodeId, Op, Param, Program, ReduceOp, SliceBound, SliceRange,
    SymDef, UnOp, VarId,
};
pub use shapes::{bind, BindError, SymValues};
pub use types::{DType, Dim, ElemTy, SymId, Type};
pub use value::Value;
