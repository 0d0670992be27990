//! Arrays from files: `.npy` through ndarray-npy (after [`super::check_npy`] has checked the
//! header against the file), `.csv` with a small plain parser.
//!
//! A `.npy` file may hold any of numpy's real element types; it is read as what it holds and
//! converted to the element type asked for ([`NpyElement`]), so scikit-learn's float64
//! fixtures serve f32 and f64 tests alike and integer labels read as `i64`.

use std::path::{Path, PathBuf};

use ndarray::{Array, Array2, ArrayD, Dimension, Ix2};
use ndarray_npy::{ReadNpyError, ReadNpyExt, ReadableElement};

use super::{DatasetError, Real, Result};

/// The element types a `.npy` file can be read as: f32, f64 and i64.
///
/// Floats accept every stored number (f64 rounds to f32; integers beyond 2^53 round); i64
/// accepts integers and booleans, and floats only when integral and in range.
pub trait NpyElement: Copy {
    /// The name used in errors.
    const NAME: &'static str;
    /// The value of a stored float, or `None` when it has no faithful equivalent.
    fn from_stored_f64(v: f64) -> Option<Self>;
    /// The value of a stored integer, or `None` when it has no faithful equivalent.
    fn from_stored_i64(v: i64) -> Option<Self>;
}

impl NpyElement for f64 {
    const NAME: &'static str = "f64";
    fn from_stored_f64(v: f64) -> Option<Self> {
        Some(v)
    }
    fn from_stored_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
}

impl NpyElement for f32 {
    const NAME: &'static str = "f32";
    fn from_stored_f64(v: f64) -> Option<Self> {
        Some(v as f32)
    }
    fn from_stored_i64(v: i64) -> Option<Self> {
        Some(v as f32)
    }
}

impl NpyElement for i64 {
    const NAME: &'static str = "i64";
    fn from_stored_f64(v: f64) -> Option<Self> {
        // 2^63 is exactly representable; every integral f64 in [-2^63, 2^63) fits.
        let fits = v.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v);
        fits.then_some(v as i64)
    }
    fn from_stored_i64(v: i64) -> Option<Self> {
        Some(v)
    }
}

/// What a file held, widened without loss: every float to f64, every integer to i64.
enum Stored {
    Float(ArrayD<f64>),
    Int(ArrayD<i64>),
    /// A u64 array with a value above `i64::MAX`: carried as f64 so the error can print it.
    Wide(ArrayD<f64>, usize),
}

/// Reads `bytes` as an array of `T`, `None` when the file holds another element type.
fn try_read<T: ReadableElement>(bytes: &[u8]) -> std::result::Result<Option<ArrayD<T>>, ReadNpyError> {
    match ArrayD::<T>::read_npy(bytes) {
        Ok(a) => Ok(Some(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Parses the `.npy` bytes of `path` as whichever supported element type they hold.
fn read_stored(path: &Path, bytes: &[u8]) -> Result<Stored> {
    let npy_err = |e: ReadNpyError| DatasetError::Npy { path: path.to_path_buf(), reason: e.to_string() };
    macro_rules! widen {
        ($t:ty, $variant:ident, $to:ty) => {
            if let Some(a) = try_read::<$t>(bytes).map_err(npy_err)? {
                return Ok(Stored::$variant(a.mapv(<$to>::from)));
            }
        };
    }
    widen!(f64, Float, f64);
    widen!(f32, Float, f64);
    widen!(i64, Int, i64);
    widen!(i32, Int, i64);
    widen!(i16, Int, i64);
    widen!(i8, Int, i64);
    widen!(u32, Int, i64);
    widen!(u16, Int, i64);
    widen!(u8, Int, i64);
    if let Some(a) = try_read::<u64>(bytes).map_err(npy_err)? {
        if let Some(i) = a.iter().position(|&v| i64::try_from(v).is_err()) {
            return Ok(Stored::Wide(a.mapv(|v| v as f64), i));
        }
        return Ok(Stored::Int(a.mapv(|v| v as i64)));
    }
    if let Some(a) = try_read::<bool>(bytes).map_err(npy_err)? {
        return Ok(Stored::Int(a.mapv(i64::from)));
    }
    Err(DatasetError::Npy {
        path: path.to_path_buf(),
        reason: "the element type is none of f64, f32, i64, i32, i16, i8, u64, u32, u16, u8, bool".into(),
    })
}

/// Converts every element, naming the first one that does not fit.
fn convert<T: NpyElement, S: Copy + ToString>(
    path: &Path,
    a: ArrayD<S>,
    f: impl Fn(S) -> Option<T>,
) -> Result<ArrayD<T>> {
    let shape = a.raw_dim();
    let mut out = Vec::with_capacity(a.len());
    // `iter` walks in logical (C) order whatever the file's memory order was.
    for (index, &v) in a.iter().enumerate() {
        match f(v) {
            Some(t) => out.push(t),
            None => {
                return Err(DatasetError::Unrepresentable {
                    path: path.to_path_buf(),
                    value: v.to_string(),
                    index,
                    dtype: T::NAME,
                })
            }
        }
    }
    Ok(ArrayD::from_shape_vec(shape, out).unwrap_or_else(|_| unreachable!("one element per source element")))
}

/// Reads a `.npy` file of any rank `D` (use `IxDyn` for any) as elements of `T`.
///
/// The file may hold f64, f32, signed or unsigned integers or booleans, in C or Fortran
/// order; values are converted as [`NpyElement`] describes. Scalars saved by numpy are 0-d:
/// read them with `D = Ix0` and take `.into_scalar()`.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, [`DatasetError::Npy`] when it is not a
/// `.npy` array of a supported type, [`DatasetError::Rank`] when its rank is not `D`'s, and
/// [`DatasetError::Unrepresentable`] when a value has no equivalent in `T`.
pub fn load_npy_as<T: NpyElement, D: Dimension>(path: impl AsRef<Path>) -> Result<Array<T, D>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?;
    // Checked before ndarray-npy sees the bytes: it allocates what the header claims.
    super::check_npy(&mut bytes.as_slice(), bytes.len() as u64)
        .map_err(|e| DatasetError::Npy { path: path.to_path_buf(), reason: e.to_string() })?;
    let stored = read_stored(path, &bytes)?;
    let found = match &stored {
        Stored::Float(a) | Stored::Wide(a, _) => a.ndim(),
        Stored::Int(a) => a.ndim(),
    };
    if let Some(expected) = D::NDIM.filter(|&n| n != found) {
        return Err(DatasetError::Rank { path: path.to_path_buf(), expected, found });
    }
    let converted = match stored {
        Stored::Float(a) => convert(path, a, T::from_stored_f64)?,
        Stored::Int(a) => convert(path, a, T::from_stored_i64)?,
        Stored::Wide(a, index) => {
            let value = a.iter().nth(index).map_or_else(String::new, |v| v.to_string());
            return Err(DatasetError::Unrepresentable { path: path.to_path_buf(), value, index, dtype: T::NAME });
        }
    };
    // The rank was checked above, so this conversion cannot fail.
    converted
        .into_dimensionality::<D>()
        .map_err(|e| DatasetError::Npy { path: path.to_path_buf(), reason: e.to_string() })
}

/// Reads a 2-D `.npy` file (a data matrix, samples in rows) as `F`.
///
/// The shorthand of [`load_npy_as`] for the common case; an f64 file reads as f32 rounded.
///
/// # Errors
/// As [`load_npy_as`]; [`DatasetError::Rank`] when the array is not 2-D.
pub fn load_npy<F: Real>(path: impl AsRef<Path>) -> Result<Array2<F>> {
    load_npy_as::<F, Ix2>(path)
}

/// Reads a comma-separated file of numbers as a matrix, one row per non-empty line.
///
/// With `has_header` the first non-empty line is skipped (column names). Fields are trimmed
/// and may be wrapped in double quotes; `nan`, `inf` and `-inf` read as such (estimators reject
/// them later, with their own error). Empty lines, such as a trailing one, are skipped; `\r\n`
/// line ends are accepted. No quoting of commas: numeric data never needs it.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read (or is not UTF-8),
/// [`DatasetError::RaggedRow`] and [`DatasetError::NotANumber`] naming the line and column,
/// [`DatasetError::Empty`] when no data line remains.
pub fn load_csv<F: Real>(path: impl AsRef<Path>, has_header: bool) -> Result<Array2<F>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io { path: path.to_path_buf(), source })?;
    parse_csv(path.to_path_buf(), &text, has_header)
}

fn parse_csv<F: Real>(path: PathBuf, text: &str, has_header: bool) -> Result<Array2<F>> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    if has_header {
        lines.next();
    }
    let mut values = Vec::new();
    let mut n_cols = None;
    let mut n_rows = 0;
    for (i, line) in lines {
        let line_no = i + 1;
        let start = values.len();
        for (j, field) in line.split(',').enumerate() {
            let field = field.trim();
            let unquoted = field.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap_or(field).trim();
            let v = unquoted.parse::<F>().map_err(|_| DatasetError::NotANumber {
                path: path.clone(),
                line: line_no,
                column: j + 1,
                field: field.to_string(),
            })?;
            values.push(v);
        }
        let found = values.len() - start;
        match n_cols {
            None => n_cols = Some(found),
            Some(expected) if expected != found => {
                return Err(DatasetError::RaggedRow { path, line: line_no, expected, found });
            }
            Some(_) => {}
        }
        n_rows += 1;
    }
    let Some(n_cols) = n_cols else {
        return Err(DatasetError::Empty { path });
    };
    Ok(Array2::from_shape_vec((n_rows, n_cols), values).unwrap_or_else(|_| unreachable!("rows checked equal")))
}
