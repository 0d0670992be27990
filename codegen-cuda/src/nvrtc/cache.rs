//! The disk cache of NVRTC results, so a kernel is compiled once per machine, not once per run.
//!
//! One file per (source, NVRTC version, architecture), named by a hash of the three. The file
//! holds the whole source, so a hash collision is a miss, never a wrong binary, and a header
//! with the payload's length and hash, so a truncated or corrupt file is detected, ignored and
//! rewritten. Files are written to a temporary name and renamed: readers never see half a file.
//!
//! ```text
//! "KILNNV01" | payload length: u64 LE | payload hash: u64 LE |
//! payload = source length, ptx length, cubin length (u64 LE each) | source | ptx | cubin
//! ```

use std::path::{Path, PathBuf};

use super::Arch;

/// The file magic, with the format version.
const MAGIC: &[u8; 8] = b"KILNNV01";
/// Magic plus the two header words.
const HEADER: usize = 24;

/// What an entry is keyed by.
#[derive(Clone, Copy, Debug)]
pub struct Key<'a> {
    /// The CUDA C text.
    pub source: &'a str,
    /// The target architecture.
    pub arch: Arch,
    /// NVRTC's version.
    pub nvrtc_version: (u32, u32),
}

/// A cache entry's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The PTX text.
    pub ptx: String,
    /// The cubin.
    pub cubin: Vec<u8>,
}

/// `$XDG_CACHE_HOME/kiln`, else `$HOME/.cache/kiln`.
pub fn default_dir() -> Option<PathBuf> {
    let nonempty = |v: &str| std::env::var_os(v).filter(|d| !d.is_empty()).map(PathBuf::from);
    nonempty("XDG_CACHE_HOME").or_else(|| nonempty("HOME").map(|h| h.join(".cache"))).map(|d| d.join("kiln"))
}

/// The entry's file in `dir`.
pub fn path(dir: &Path, key: &Key<'_>) -> PathBuf {
    let (major, minor) = key.nvrtc_version;
    let h = hash64(key.source.as_bytes()) ^ (u64::from(key.arch.0) << 32) ^ u64::from(major * 1000 + minor);
    dir.join(format!("{h:016x}-{}-nvrtc{major}.{minor}.bin", key.arch))
}

/// The entry for `key`, or `None` when absent, unreadable, corrupt or for another source.
pub fn read(dir: &Path, key: &Key<'_>) -> Option<Entry> {
    let path = path(dir, key);
    let bytes = std::fs::read(&path).ok()?;
    let entry = decode(&bytes, key.source);
    if entry.is_none() {
        tracing::warn!(path = %path.display(), "ignoring a corrupt or mismatched nvrtc cache file");
    }
    entry
}

/// Stores an entry; failures are logged and otherwise ignored (the cache is an optimisation).
pub fn write(dir: &Path, key: &Key<'_>, ptx: &str, cubin: &[u8]) {
    let path = path(dir, key);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = path.with_extension(format!("tmp.{}.{nanos}", std::process::id()));
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, encode(key.source, ptx, cubin)))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(error) = result {
        std::fs::remove_file(&tmp).ok();
        tracing::warn!(path = %path.display(), %error, "cannot write the nvrtc cache file");
    }
}

/// The file's bytes.
pub fn encode(source: &str, ptx: &str, cubin: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(24 + source.len() + ptx.len() + cubin.len());
    for len in [source.len(), ptx.len(), cubin.len()] {
        payload.extend_from_slice(&(len as u64).to_le_bytes());
    }
    payload.extend_from_slice(source.as_bytes());
    payload.extend_from_slice(ptx.as_bytes());
    payload.extend_from_slice(cubin);
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&hash64(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Decodes a file, checking magic, length, hash and that it was built from `source`.
pub fn decode(bytes: &[u8], source: &str) -> Option<Entry> {
    let word = |b: &[u8], at: usize| -> Option<u64> { Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)) };
    if bytes.get(..8)? != MAGIC {
        return None;
    }
    let payload = &bytes[HEADER.min(bytes.len())..];
    if word(bytes, 8)? != payload.len() as u64 || word(bytes, 16)? != hash64(payload) {
        return None;
    }
    let lens: Vec<usize> = (0..3).map(|i| word(payload, 8 * i).map(|w| w as usize)).collect::<Option<_>>()?;
    let src_end = 24usize.checked_add(lens[0])?;
    let ptx_end = src_end.checked_add(lens[1])?;
    let cubin_end = ptx_end.checked_add(lens[2])?;
    if cubin_end != payload.len() || payload.get(24..src_end)? != source.as_bytes() {
        return None;
    }
    let ptx = String::from_utf8(payload.get(src_end..ptx_end)?.to_vec()).ok()?;
    Some(Entry { ptx, cubin: payload.get(ptx_end..cubin_end)?.to_vec() })
}

/// A fast 64-bit hash (word-at-a-time multiply-rotate, murmur3's finaliser): detects corruption
/// and names files; not cryptographic, and collisions are caught by the stored source.
pub fn hash64(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = 0x243F_6A88_85A3_08D3u64 ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w.wrapping_mul(K)).rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(tail).wrapping_mul(K)).rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = encode("src", "ptx text", &[1, 2, 3]);
        let entry = decode(&bytes, "src").expect("decodes");
        assert_eq!(entry, Entry { ptx: "ptx text".into(), cubin: vec![1, 2, 3] });
    }

    #[test]
    fn other_source_is_a_miss() {
        assert_eq!(decode(&encode("src", "p", &[]), "srd"), None);
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_detected() {
        let bytes = encode("__global__ void k() {}", ".version 9.5", &[7; 40]);
        for len in 0..bytes.len() {
            assert_eq!(decode(&bytes[..len], "__global__ void k() {}"), None, "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert_eq!(decode(&bad, "__global__ void k() {}"), None, "byte {i} flipped");
        }
    }

    #[test]
    fn hash_depends_on_every_byte_and_the_length() {
        let base = hash64(b"0123456789abcdef-");
        assert_ne!(base, hash64(b"0123456789abcdef"));
        assert_ne!(base, hash64(b"0123456789abcdeg-"));
        assert_ne!(base, hash64(b"1123456789abcdef-"));
        assert_ne!(hash64(b""), hash64(b"\0"));
    }

    #[test]
    fn key_separates_arch_and_version() {
        let dir = Path::new("/c");
        let key = Key { source: "s", arch: Arch::SM80, nvrtc_version: (13, 5) };
        let p = path(dir, &key);
        assert_ne!(p, path(dir, &Key { arch: Arch::SM90, ..key }));
        assert_ne!(p, path(dir, &Key { nvrtc_version: (13, 6), ..key }));
        assert!(p.to_string_lossy().contains("sm_80-nvrtc13.5"));
    }
}
