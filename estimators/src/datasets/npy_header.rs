//! The `.npy` header, read without believing it: magic, version, header length, the format
//! dictionary, and the claimed data size checked against the file's length.
//!
//! ndarray-npy allocates the element count a header claims before it reads a byte of data,
//! so a 150-byte file claiming 4e12 elements aborts the process. Every reader of user files
//! (the `datasets` loaders, the `kiln` command) runs [`check_npy`] first: once it passes, the
//! file holds exactly the bytes the header describes, and nothing is allocated beyond them.

use std::io::Read;

/// The first bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Why a `.npy` file was refused before its data was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyFormatError {
    /// The file does not start with `\x93NUMPY`.
    #[error("not a .npy file (bad magic string)")]
    BadMagic,
    /// The file ends inside its header.
    #[error("the file ends inside its header ({len} bytes)")]
    TruncatedHeader {
        /// The file's length in bytes.
        len: u64,
    },
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)")]
    Version {
        /// The major version byte.
        major: u8,
        /// The minor version byte.
        minor: u8,
    },
    /// The format dictionary is not the `{'descr': ..., 'fortran_order': ..., 'shape': ...}`
    /// numpy writes.
    #[error("malformed header: {0}")]
    Header(String),
    /// An element type no reader supports (structured, complex, half, strings, objects).
    #[error("unsupported dtype `{0}` (supported: f4, f8, i1, i2, i4, i8, u1, u2, u4, u8, b1)")]
    Dtype(String),
    /// A byte-order mark that does not fit the element type.
    #[error("unsupported byte order in dtype `{0}` (expected `<` or `>`, or `|` for one-byte types)")]
    ByteOrder(String),
    /// The shape's element or byte count does not fit in memory addresses.
    #[error("the shape {shape:?} has more bytes than can be addressed")]
    Overflow {
        /// The claimed shape.
        shape: Vec<u64>,
    },
    /// The data after the header is not the size the header claims.
    #[error("the header claims shape {shape:?} of {descr} ({claimed} data bytes) but the file holds {actual}")]
    Length {
        /// The claimed shape.
        shape: Vec<usize>,
        /// The element type.
        descr: String,
        /// Data bytes the shape and element type need.
        claimed: u64,
        /// Data bytes in the file.
        actual: u64,
    },
}

/// A `.npy` header that describes the file it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    /// The element type, as numpy wrote it (`<f8`, `|b1`, ...).
    pub descr: String,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Where the data starts in the file.
    pub data_offset: u64,
}

/// Reads and checks the header of a `.npy` file of `file_len` bytes from `reader` (positioned
/// at the file's start), reading no further than the header.
///
/// # Errors
/// An [`NpyFormatError`] naming the first thing that does not hold: the magic string, a
/// supported version, a well-formed dictionary with a supported element type and byte order,
/// and data of exactly the size the shape claims.
pub fn check_npy(reader: &mut impl Read, file_len: u64) -> Result<NpyHeader, NpyFormatError> {
    let truncated = || NpyFormatError::TruncatedHeader { len: file_len };
    let mut head = [0u8; 8];
    let mut read_exact = |buf: &mut [u8]| reader.read_exact(buf).map_err(|_| truncated());
    read_exact(&mut head)?;
    if &head[..6] != MAGIC {
        return Err(NpyFormatError::BadMagic);
    }
    let (major, minor) = (head[6], head[7]);
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2 | 3, 0) => 4,
        _ => return Err(NpyFormatError::Version { major, minor }),
    };
    let mut len = [0u8; 4];
    read_exact(&mut len[..len_bytes])?;
    let header_len = u64::from(u32::from_le_bytes(len));
    let data_offset = 8 + len_bytes as u64 + header_len;
    if data_offset > file_len {
        return Err(truncated());
    }
    // Bounded by the file's length, checked just above.
    let mut text = vec![0u8; header_len as usize];
    read_exact(&mut text)?;
    let text = std::str::from_utf8(&text).map_err(|_| NpyFormatError::Header("not UTF-8 text".into()))?;
    if major < 3 && !text.is_ascii() {
        return Err(NpyFormatError::Header("non-ASCII text in a version 1 or 2 header".into()));
    }
    let text = text.strip_suffix('\n').ok_or_else(|| NpyFormatError::Header("no final newline".into()))?;
    let (descr, fortran_order, shape) = parse_dict(text)?;
    let item = item_size(&descr)?;
    let overflow = || NpyFormatError::Overflow { shape: shape.clone() };
    let claimed = shape.iter().try_fold(item, |acc, &n| acc.checked_mul(n)).ok_or_else(overflow)?;
    let shape: Vec<usize> =
        shape.iter().map(|&n| usize::try_from(n)).collect::<Result<_, _>>().map_err(|_| overflow())?;
    if claimed > isize::MAX as u64 {
        return Err(NpyFormatError::Overflow { shape: shape.iter().map(|&n| n as u64).collect() });
    }
    let actual = file_len - data_offset;
    if claimed != actual {
        return Err(NpyFormatError::Length { shape, descr, claimed, actual });
    }
    Ok(NpyHeader { descr, fortran_order, shape, data_offset })
}

/// The size in bytes of one element of `descr`, or why the type is refused.
fn item_size(descr: &str) -> Result<u64, NpyFormatError> {
    let (order, rest) = match descr.as_bytes().first() {
        Some(&c @ (b'<' | b'>' | b'|' | b'=')) => (Some(c), &descr[1..]),
        _ => (None, descr),
    };
    let size = match rest {
        "f4" | "i4" | "u4" => 4,
        "f8" | "i8" | "u8" => 8,
        "i2" | "u2" => 2,
        "i1" | "u1" | "b1" => 1,
        _ => return Err(NpyFormatError::Dtype(descr.into())),
    };
    let fits = match order {
        Some(b'<' | b'>') => size > 1,
        Some(b'|') => size == 1,
        // numpy writes `|` for one-byte types; ndarray-npy also reads `i1`/`u1` bare.
        None => size == 1 && rest != "b1",
        _ => false,
    };
    if fits {
        Ok(size)
    } else {
        Err(NpyFormatError::ByteOrder(descr.into()))
    }
}

/// The `descr`, `fortran_order` and `shape` of a header dictionary (each exactly once, no
/// other key).
fn parse_dict(text: &str) -> Result<(String, bool, Vec<u64>), NpyFormatError> {
    let mut p = Cursor { s: text.as_bytes(), i: 0 };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        let dup = match key.as_str() {
            "descr" => descr.replace(p.descr()?).is_some(),
            "fortran_order" => fortran.replace(p.boolean()?).is_some(),
            "shape" => shape.replace(p.tuple()?).is_some(),
            other => return Err(NpyFormatError::Header(format!("unexpected key `{other}`"))),
        };
        if dup {
            return Err(NpyFormatError::Header(format!("key `{key}` given twice")));
        }
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_space();
    if p.i != p.s.len() {
        return Err(NpyFormatError::Header("text after the dictionary".into()));
    }
    let missing = |k: &str| NpyFormatError::Header(format!("no `{k}` key"));
    Ok((
        descr.ok_or_else(|| missing("descr"))?,
        fortran.ok_or_else(|| missing("fortran_order"))?,
        shape.ok_or_else(|| missing("shape"))?,
    ))
}

/// A position in the header text.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_space(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        let hit = self.s.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyFormatError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(NpyFormatError::Header(format!("expected `{}` at byte {}", c as char, self.i)))
        }
    }

    /// A quoted string without escapes (all numpy writes).
    fn string(&mut self) -> Result<String, NpyFormatError> {
        self.skip_space();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(NpyFormatError::Header(format!("expected a string at byte {}", self.i))),
        };
        let start = self.i + 1;
        let len = self.s[start..].iter().position(|&c| c == quote || c == b'\\');
        match len.map(|n| (n, self.s[start + n])) {
            Some((n, c)) if c == quote => {
                self.i = start + n + 1;
                // The header is valid UTF-8 and the quotes are ASCII, so this slice is too.
                Ok(String::from_utf8_lossy(&self.s[start..start + n]).into_owned())
            }
            _ => Err(NpyFormatError::Header("unterminated or escaped string".into())),
        }
    }

    /// The dtype: a string; a list (a structured dtype) is refused by name.
    fn descr(&mut self) -> Result<String, NpyFormatError> {
        self.skip_space();
        if self.s.get(self.i) == Some(&b'[') {
            return Err(NpyFormatError::Dtype("structured (a list of fields)".into()));
        }
        self.string()
    }

    fn boolean(&mut self) -> Result<bool, NpyFormatError> {
        self.skip_space();
        for (word, value) in [("True", true), ("False", false)] {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(value);
            }
        }
        Err(NpyFormatError::Header(format!("expected True or False at byte {}", self.i)))
    }

    /// A tuple of non-negative integers: `()`, `(3,)`, `(3, 4)`, a trailing comma allowed.
    fn tuple(&mut self) -> Result<Vec<u64>, NpyFormatError> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            let n = digits.parse::<u64>().map_err(|_| {
                NpyFormatError::Header(format!("expected a dimension (a non-negative integer) at byte {start}"))
            })?;
            dims.push(n);
            if dims.len() > 64 {
                return Err(NpyFormatError::Header("more than 64 dimensions".into()));
            }
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}
