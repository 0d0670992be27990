//! Element types, symbolic dimensions and array types shared by the array IR and the loop IR.

use std::fmt;

/// A concrete element type of an array or scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    F32,
    F64,
    I32,
    I64,
    U32,
    Bool,
}

impl DType {
    pub const ALL: [DType; 6] = [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32, DType::Bool];

    /// The spelling used in the IR text and in Rust (`f32`, `bool`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I32 => "i32",
            DType::I64 => "i64",
            DType::U32 => "u32",
            DType::Bool => "bool",
        }
    }

    pub fn from_name(s: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == s)
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_int(self) -> bool {
        matches!(self, DType::I32 | DType::I64 | DType::U32)
    }

    pub fn is_signed(self) -> bool {
        matches!(self, DType::I32 | DType::I64 | DType::F32 | DType::F64)
    }

    /// Size of one element in bytes (bool is stored as one byte).
    pub fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The element type of a value in a program: concrete, or the kernel's generic float
/// parameter (`F` in `fn k<F: Float>`), which is replaced by `f32` or `f64` when a generic
/// program is instantiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemTy {
    Concrete(DType),
    /// The generic float type parameter. Printed as `F`.
    Float,
}

impl ElemTy {
    pub const F32: ElemTy = ElemTy::Concrete(DType::F32);
    pub const F64: ElemTy = ElemTy::Concrete(DType::F64);
    pub const I32: ElemTy = ElemTy::Concrete(DType::I32);
    pub const I64: ElemTy = ElemTy::Concrete(DType::I64);
    pub const U32: ElemTy = ElemTy::Concrete(DType::U32);
    pub const BOOL: ElemTy = ElemTy::Concrete(DType::Bool);

    pub fn is_float(self) -> bool {
        match self {
            ElemTy::Concrete(d) => d.is_float(),
            ElemTy::Float => true,
        }
    }

    pub fn is_int(self) -> bool {
        matches!(self, ElemTy::Concrete(d) if d.is_int())
    }

    pub fn is_bool(self) -> bool {
        self == ElemTy::BOOL
    }

    /// The concrete dtype, with the generic float replaced by `float`.
    pub fn resolve(self, float: DType) -> DType {
        match self {
            ElemTy::Concrete(d) => d,
            ElemTy::Float => float,
        }
    }
}

impl From<DType> for ElemTy {
    fn from(d: DType) -> Self {
        ElemTy::Concrete(d)
    }
}

impl fmt::Display for ElemTy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElemTy::Concrete(d) => d.fmt(f),
            ElemTy::Float => f.write_str("F"),
        }
    }
}

/// Index of a shape symbol in [`crate::Program::syms`] (printed by its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymId(pub u32);

/// One dimension of a shape: a symbol bound from an input's shape at call time, or a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    Sym(SymId),
    Const(u64),
}

impl Dim {
    pub fn is_one(self) -> bool {
        self == Dim::Const(1)
    }
}

/// The type of every array IR value: element type and shape. Rank 0 is a scalar.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    pub elem: ElemTy,
    pub shape: Vec<Dim>,
}

impl Type {
    pub fn scalar(elem: ElemTy) -> Type {
        Type { elem, shape: Vec::new() }
    }

    pub fn array(elem: ElemTy, shape: Vec<Dim>) -> Type {
        Type { elem, shape }
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    pub fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }
}
