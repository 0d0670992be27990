//! JIT memory is given back when a kernel is dropped. A test binary of its own: the measure is
//! process-wide, so no other test may compile or allocate beside it.
//!
//! Cranelift's JIT maps its code pages executable; a leaked module keeps them mapped. The test
//! counts the bytes of executable mappings not backed by a file (from /proc/self/maps) — heap
//! noise cannot move that number — and, as a second witness, resident memory.

use kiln::ndarray::Array2;
use kiln::prelude::*;
use kiln::{Device, Kernel};

#[kernel]
fn stats(x: Array2<f32>) -> (f32, kiln::ndarray::Array1<f32>, kiln::ndarray::Array1<f32>, Array2<f32>) {
    let mean = x.mean_axis(Axis(0));
    (x.sum(), mean, x.sum_axis(Axis(1)), (x - mean).exp())
}

/// Bytes of anonymous (not file-backed) mappings with execute permission: JIT code.
fn anon_exec_bytes() -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps (Linux)");
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let path = f.nth(3);
            let anon = matches!(path, None | Some("[heap]"));
            if !anon || !perms.contains('x') {
                return None;
            }
            let (a, b) = range.split_once('-')?;
            Some(usize::from_str_radix(b, 16).ok()? - usize::from_str_radix(a, 16).ok()?)
        })
        .sum()
}

/// Resident memory of this process in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

const CYCLES: usize = 100;

fn cycles(leak: bool) -> (usize, usize) {
    let program = stats::kernel().program().clone();
    let x = Array2::<f32>::ones((4, 3));
    let (exec0, rss0) = (anon_exec_bytes(), rss());
    for _ in 0..CYCLES {
        let k = Kernel::from_program(program.clone()).unwrap();
        k.call_on(Device::Cpu, None, vec![kiln::runtime::array_arg(&x)]).unwrap();
        assert_eq!(k.cpu_compile_count(), 1);
        if leak {
            std::mem::forget(k);
        }
    }
    (anon_exec_bytes().saturating_sub(exec0), rss().saturating_sub(rss0))
}

#[test]
fn dropping_a_kernel_releases_its_jit_memory() {
    // Warm up allocators, rayon and caches.
    cycles(false);
    let (exec_dropped, rss_dropped) = cycles(false);
    // The control: the same cycles leaking each kernel must show up in the measure, or the
    // measure proves nothing.
    let (exec_leaked, rss_leaked) = cycles(true);
    eprintln!(
        "{CYCLES} compile cycles: executable anon mappings +{} KiB dropped, +{} KiB leaked; \
         resident +{} KiB dropped, +{} KiB leaked",
        exec_dropped >> 10,
        exec_leaked >> 10,
        rss_dropped >> 10,
        rss_leaked >> 10
    );
    assert!(exec_leaked >= CYCLES * 4096, "control: leaking {CYCLES} kernels mapped only {exec_leaked} bytes");
    assert!(exec_dropped <= 4 * 4096, "dropping kept {exec_dropped} bytes of JIT code mapped over {CYCLES} cycles");
    assert!(rss_dropped < rss_leaked / 2, "resident: dropped +{rss_dropped} B, leaked +{rss_leaked} B");
}
