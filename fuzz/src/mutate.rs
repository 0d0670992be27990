//! Seeded mutations of bytes and text: bit flips, byte and chunk edits, splices between seeds
//! and "interesting" numbers written over digits, the mutations that find length, sign and
//! overflow bugs in parsers.

use kiln::ir::testgen::XorShift;

/// Numbers that sit on the edges of integer types and sizes.
const INTERESTING: &[&str] = &[
    "0",
    "1",
    "-1",
    "255",
    "65536",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999999",
    "4000000000000",
    "1e308",
    "nan",
    "-inf",
];

/// A mutated copy of one of `seeds` (one to four edits, sometimes spliced with another seed).
pub fn mutate(rng: &mut XorShift, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        edit(rng, &mut out, seeds);
    }
    out
}

fn edit(rng: &mut XorShift, out: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let len = out.len();
    let at = |rng: &mut XorShift| rng.below(len + 1);
    match rng.below(9) {
        0 if len > 0 => {
            let i = rng.below(len);
            out[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            out[i] = rng.next_u64() as u8;
        }
        2 => {
            let i = at(rng);
            out.insert(i, rng.pick(b"0123456789,()[]{}<>:;'\" \n-_.|=+*/xyzfFnda"));
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let n = (1 + rng.below(8)).min(len - i);
            out.drain(i..i + n);
        }
        4 if len > 0 => {
            // Duplicate a chunk in place (repeated tokens, nested brackets).
            let i = rng.below(len);
            let n = (1 + rng.below(16)).min(len - i);
            let chunk: Vec<u8> = out[i..i + n].to_vec();
            let j = at(rng);
            out.splice(j..j, chunk);
        }
        5 => {
            // Write an interesting number over a run of digits (or anywhere).
            let i = at(rng);
            let end = (i..len).find(|&k| !out[k].is_ascii_digit()).unwrap_or(len);
            let n = rng.pick(INTERESTING).as_bytes().to_vec();
            out.splice(i..end, n);
        }
        6 if len > 0 => out.truncate(rng.below(len)),
        7 => {
            // Splice: the head of this input, the tail of another seed.
            let other = &seeds[rng.below(seeds.len())];
            let i = at(rng);
            let j = rng.below(other.len() + 1);
            out.truncate(i);
            out.extend_from_slice(&other[j..]);
        }
        _ => {
            // Little-endian integers written over header length fields and the like.
            if len >= 4 {
                let i = rng.below(len - 3);
                let v = rng.pick(&[0u32, 1, 0x7fff_ffff, 0xffff_ffff, 0x1_0000u32, 0xffff]);
                out[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// `text` mutated as bytes, then read back as text (invalid UTF-8 replaced).
pub fn mutate_text(rng: &mut XorShift, seeds: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(&mutate(rng, seeds)).into_owned()
}
