//! Copies of kernel inputs in the layout a vector loop wants.
//!
//! A CPU kernel whose vector loop reads an input many times over, along an axis that its
//! inner variable walks (`nearest`'s `x[v0, l]`, the rows of `x` as vector lanes), lists it in
//! [`crate::CpuProgram::repacks`]. When the caller's array does not have stride 1 on that
//! axis (a row-major `x` read down its columns), the runtime passes the kernel a copy that has
//! it ([`needs_copy`], [`contiguous_along`]): one pass over the input buys vector loads for
//! every later read, and the values, hence the results, are the same.
//!
//! The same copies serve an algorithm that calls such a kernel many times on the same data
//! and so copies once: [`column_major`], and [`rows_to_panels_at`] (rows put at the places
//! the algorithm chooses, in BLAS-style panels; KMeans groups its rows by cluster this way).

use crate::{BufDesc, CpuProgram};
use kiln_ir::loops::BufId;
use kiln_ir::{with_value, Value};
use ndarray::{Array2, Array3, ArrayD, ArrayView2, ArrayViewD, Ix2, ShapeBuilder};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// The copies one call makes of its inputs for the kernels whose vector loops want stride 1
/// on an axis the caller's array lacks it on: each (input, axis) copied once per call and
/// given to the kernels that list it in [`CpuProgram::repacks`], and to no other.
pub struct StrideCopies {
    copies: Vec<StrideCopy>,
}

struct StrideCopy {
    buf: BufId,
    axis: usize,
    value: Value,
    strides: Vec<i64>,
}

impl StrideCopies {
    /// The copies for one call of `prog`: for every kernel `ki` that runs generated code
    /// (`generated(ki)`; a vendor GEMM step reads its inputs in place, whatever their
    /// strides), every input buffer it lists that is parameter `param_of[buf]` of the call
    /// and lacks stride 1 on the axis (`needs(param, axis)`, see [`needs_copy`]) is copied by
    /// `copy(param, axis)` (see [`contiguous_along`]).
    pub fn make(
        prog: &CpuProgram,
        generated: impl Fn(usize) -> bool,
        param_of: &[Option<usize>],
        needs: impl Fn(usize, usize) -> bool,
        copy: impl Fn(usize, usize) -> Value,
    ) -> StrideCopies {
        let mut copies: Vec<StrideCopy> = vec![];
        for ki in (0..prog.kernels()).filter(|&ki| generated(ki)) {
            for &(buf, axis) in prog.repacks(ki) {
                let Some(k) = param_of.get(buf.index()).copied().flatten() else { continue };
                if copies.iter().any(|c| (c.buf, c.axis) == (buf, axis)) || !needs(k, axis) {
                    continue;
                }
                let value = copy(k, axis);
                let strides = with_value!(&value, a => a.strides().iter().map(|s| *s as i64).collect());
                copies.push(StrideCopy { buf, axis, value, strides });
            }
        }
        StrideCopies { copies }
    }

    /// The (input, axis) pairs copied.
    pub fn copied(&self) -> impl Iterator<Item = (BufId, usize)> + '_ {
        self.copies.iter().map(|c| (c.buf, c.axis))
    }

    /// `descs` with kernel `ki`'s copied inputs pointing at their copies, or `None` when the
    /// kernel reads none of them (it then takes `descs` as they are).
    pub fn descs_for(&self, prog: &CpuProgram, ki: usize, descs: &[BufDesc]) -> Option<Vec<BufDesc>> {
        let mut own: Option<Vec<BufDesc>> = None;
        for c in self.copies.iter().filter(|c| prog.repacks(ki).contains(&(c.buf, c.axis))) {
            let d = own.get_or_insert_with(|| descs.to_vec());
            d[c.buf.index()] =
                BufDesc { ptr: with_value!(&c.value, a => a.as_ptr() as *mut u8), strides: c.strides.as_ptr() };
        }
        own
    }
}

/// Whether `x` lacks stride 1 on `axis` (and so would send the kernel to its scalar loop).
/// An empty array has nothing to copy.
pub fn needs_copy<T>(x: &ArrayViewD<'_, T>, axis: usize) -> bool {
    !x.is_empty() && x.shape().get(axis).is_some_and(|&n| n > 1) && x.strides().get(axis) != Some(&1)
}

/// A copy of `x` whose `axis` has stride 1 (the other axes in row-major order among
/// themselves): column-major for axis 0 of a matrix.
pub fn contiguous_along<T: Copy + Send + Sync + Default>(x: ArrayViewD<'_, T>, axis: usize) -> ArrayD<T> {
    if axis == 0 && x.ndim() == 2 {
        if let Ok(m) = x.view().into_dimensionality::<Ix2>() {
            return column_major(m).into_dyn();
        }
    }
    let last = x.ndim().saturating_sub(1);
    let mut v = x;
    v.swap_axes(axis, last);
    let mut out = v.as_standard_layout().into_owned();
    out.swap_axes(axis, last);
    out
}

/// Buffers at least this large are backed by transparent huge pages where the kernel allows.
#[cfg(target_os = "linux")]
const HUGE_PAGE_BYTES: usize = 4 << 20;

/// Ask the kernel to back a large, freshly allocated (and not yet touched) buffer with
/// transparent huge pages, as numpy does: the first writes then fault 2 MiB at a time instead
/// of 4 KiB, which is most of the cost of writing a new output once.
pub fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    // `madvise(MADV_HUGEPAGE)` exists on Linux only; elsewhere pages stay as they come.
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        if bytes < HUGE_PAGE_BYTES {
            return;
        }
        let start = (ptr as usize).next_multiple_of(HUGE);
        let end = (ptr as usize + bytes) / HUGE * HUGE;
        if end > start {
            // SAFETY: `start..end` lies inside one live allocation owned by the caller;
            // MADV_HUGEPAGE changes only how the kernel backs those pages, never their
            // contents. A failure (THP disabled) is harmless and ignored.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, bytes);
}

/// Rows of the source per task: few enough tasks to balance the cores, enough work each.
const ROWS: usize = 256;
/// Columns per tile: a tile's source rows are read whole, its destination columns written
/// as this many short runs that stay in cache until their lines are complete.
const COLS: usize = 16;

/// Raw element pointers shared by the tasks of [`rows_to_panels_at`]: one to its source,
/// which the tasks only read, one to its destination, where they write disjoint elements.
#[derive(Clone, Copy)]
struct Ptr<T>(*mut T);
// SAFETY: `Ptr` is only created in `rows_to_panels_at`, whose bounds make `T: Send + Sync`:
// the tasks read the source `x` through it (shared reads of a `Sync` type, while `x` is
// borrowed for the whole call) and write places of the destination that no other task
// touches (`place` is a permutation, checked before any task starts); the destination is
// owned by the call and outlives the parallel loop, which joins before it is read.
unsafe impl<T: Send> Send for Ptr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ptr<T> {}

/// `x` copied into column-major order, in parallel over blocks of rows, tile by tile. The
/// destination is written once, with no zero-fill first (on huge pages when large). What the
/// runtime does per call for a kernel that wants it (see the module documentation), and what
/// an algorithm calling such a kernel many times on the same data can do once.
///
/// The columns are [`padded`] apart, as BLAS libraries lay out their panels: a vector loop
/// that takes the rows as lanes reads a few cache lines of every column at once, and columns
/// a power of two bytes apart would all fall into the same L1 cache set. The result is a view
/// of the first `n` rows (strides `[1, padded(n)]`); the padding holds zeros.
pub fn column_major<T: Copy + Send + Sync + Default>(x: ArrayView2<'_, T>) -> Array2<T> {
    let (n, d) = x.dim();
    let ld = padded::<T>(n);
    let mut out = Array2::<T>::uninit((ld, d).f());
    advise_huge_pages(out.as_mut_ptr() as *mut u8, ld * d * std::mem::size_of::<T>());
    let Some(flat) = out.as_slice_memory_order_mut() else { unreachable!("a new array is contiguous") };
    // Task `b` owns rows `b * ROWS..` of every column: the columns cut into blocks of rows,
    // regrouped by block (disjoint slices, so the tasks need no shared pointer).
    let mut blocks: Vec<Vec<&mut [MaybeUninit<T>]>> = (0..ld.div_ceil(ROWS)).map(|_| Vec::with_capacity(d)).collect();
    for column in flat.chunks_mut(ld.max(1)) {
        for (block, rows) in blocks.iter_mut().zip(column.chunks_mut(ROWS)) {
            block.push(rows);
        }
    }
    blocks.into_par_iter().enumerate().for_each(|(b, mut columns)| {
        let r0 = b * ROWS;
        let r1 = ((b + 1) * ROWS).min(n).max(r0);
        for l0 in (0..d).step_by(COLS) {
            let l1 = (l0 + COLS).min(d);
            for i in r0..r1 {
                let row = x.row(i);
                let tile = &mut columns[l0..l1];
                match row.as_slice() {
                    Some(row) => {
                        for (column, &v) in tile.iter_mut().zip(&row[l0..l1]) {
                            column[i - r0] = MaybeUninit::new(v);
                        }
                    }
                    None => {
                        for (column, l) in tile.iter_mut().zip(l0..l1) {
                            column[i - r0] = MaybeUninit::new(row[l]);
                        }
                    }
                }
            }
        }
        // The padding rows past `n` that fall in this block.
        for column in &mut columns {
            for slot in &mut column[r1 - r0..] {
                *slot = MaybeUninit::new(T::default());
            }
        }
    });
    // SAFETY: the blocks partition every column's `ld` rows, and each task wrote every
    // element of its block: rows below `n` from `x`, the padding rows with zeros.
    let out = unsafe { out.assume_init() };
    out.slice_move(ndarray::s![..n, ..])
}

/// Rows of `x` copied to the places given, in panels of `w` rows: element `[i, l]` of `x` is
/// element `[place[i] / w, l, place[i] % w]` of the result, whose shape is
/// `(ceil(n / w), d, w)`, and the places past the last row hold zeros. Each panel is stored
/// column by column, the layout BLAS libraries pack a matrix into before a product: a vector
/// loop taking a panel's rows as lanes reads one contiguous block of `w * d` elements per
/// panel. An algorithm that groups rows (KMeans by cluster) says where each row goes.
///
/// Read in `x`'s order: one sequential pass over `x` whose writes go to as many sequential
/// streams as the placement has runs, parallel over blocks of rows. Gathering each panel's
/// rows instead (safe, through disjoint panel slices) reads rows scattered over all of `x`
/// and is markedly slower, hence the shared pointer here.
///
/// # Panics
/// If `w == 0`, or `place` is not a permutation of `0..x.nrows()`.
pub fn rows_to_panels_at<T: Copy + Send + Sync + Default>(
    x: ArrayView2<'_, T>,
    w: usize,
    place: &[usize],
) -> Array3<T> {
    assert!(w > 0, "rows_to_panels_at: a panel has at least one row");
    let (n, d) = x.dim();
    assert_eq!(place.len(), n, "rows_to_panels_at: one place per row of x");
    let mut taken = vec![false; n];
    for &p in place {
        assert!(p < n && !std::mem::replace(&mut taken[p], true), "rows_to_panels_at: `place` is not a permutation");
    }
    let slots = n.div_ceil(w) * w;
    let mut out = Array3::<T>::uninit((n.div_ceil(w), d, w));
    advise_huge_pages(out.as_mut_ptr() as *mut u8, out.len() * std::mem::size_of::<T>());
    let dst = Ptr(out.as_mut_ptr() as *mut T);
    let src = Ptr(x.as_ptr() as *mut T);
    let (s0, s1) = (x.strides()[0], x.strides()[1]);
    let at = move |p: usize, l: usize| (p / w) * d * w + l * w + p % w;
    (0..n.div_ceil(ROWS)).into_par_iter().for_each(|b| {
        let (dst, src) = (dst, src);
        for (i, &p) in place.iter().enumerate().take(((b + 1) * ROWS).min(n)).skip(b * ROWS) {
            for l in 0..d {
                // SAFETY: `i < n` and `l < d`: the offset addresses element `[i, l]` of the view
                // through its own strides; `at(p, l)` is inside the result (`p < n`), and no
                // other task writes it, `place` being a permutation (checked above).
                unsafe { dst.0.add(at(p, l)).write(*src.0.offset(i as isize * s0 + l as isize * s1)) };
            }
        }
    });
    for p in n..slots {
        for l in 0..d {
            // SAFETY: a place past the last row, inside the last panel; no task wrote it.
            unsafe { dst.0.add(at(p, l)).write(T::default()) };
        }
    }
    // SAFETY: the tasks wrote every element of the places `0..n` (each place once: `place` is
    // a permutation), the loop above those past `n`.
    unsafe { out.assume_init() }
}

/// The distance between a column-major matrix's columns, in elements, for `n` rows: `n`
/// rounded up to whole 64-byte cache lines, plus one line when that makes an even number of
/// lines, so that consecutive columns start in different L1 sets (an odd line stride visits
/// all 64 sets of a 32 KiB 8-way cache before it repeats one). Short columns (under 256
/// elements, less than 16 pages apart even at 64 columns) and types whose size does not
/// divide a line are not padded.
pub fn padded<T>(n: usize) -> usize {
    let size = std::mem::size_of::<T>();
    if size == 0 || 64 % size != 0 || n < 256 {
        return n;
    }
    let per_line = 64 / size;
    let lines = n.div_ceil(per_line);
    (lines + 1 - lines % 2) * per_line
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    #[test]
    fn rows_land_at_their_places_and_zeros_fill_the_rest() {
        for (n, d, w) in
            [(0, 3, 4), (3, 0, 4), (1, 2, 4), (1, 1, 1), (9, 3, 4), (70, 5, 32), (300, 2, 32), (600, 3, 32)]
        {
            let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| (i * 10 + j + 1) as f32);
            // Grouped by i % 3, like rows grouped by cluster; and reversed.
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| i % 3);
            let mut grouped = vec![0; n];
            for (p, &i) in order.iter().enumerate() {
                grouped[i] = p;
            }
            let reversed: Vec<usize> = (0..n).rev().collect();
            for place in [grouped, reversed] {
                let t = x.t().to_owned();
                // A strided view packs by its own strides.
                for v in [x.view(), t.t()] {
                    let p = rows_to_panels_at(v, w, &place);
                    assert_eq!(p.dim(), (n.div_ceil(w), d, w), "{n} x {d} by {w}");
                    let mut row_at = vec![None; p.len_of(ndarray::Axis(0)) * w];
                    for (i, &q) in place.iter().enumerate() {
                        row_at[q] = Some(i);
                    }
                    for ((b, l, r), &got) in p.indexed_iter() {
                        let want = row_at[b * w + r].map_or(0.0, |i| x[[i, l]]);
                        assert_eq!(got, want, "{n} x {d} by {w}: panel {b} [{l}, {r}]");
                    }
                }
            }
        }
        let x = ndarray::Array2::<f64>::zeros((3, 2));
        for bad in [vec![0, 1], vec![0, 1, 1], vec![0, 1, 3]] {
            let caught = std::panic::catch_unwind(|| rows_to_panels_at(x.view(), 4, &bad));
            assert!(caught.is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn a_row_major_matrix_becomes_column_major_with_the_same_values() {
        for (n, d) in [(0, 3), (3, 0), (1, 1), (5, 1), (130, 7), (257, 32)] {
            let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| (i * 1000 + j) as f32);
            let c = contiguous_along(x.view().into_dyn(), 0);
            assert_eq!(c, x.view().into_dyn(), "{n} x {d}");
            if n > 1 && d > 0 {
                assert_eq!(c.strides()[0], 1, "{n} x {d}: rows are the contiguous axis");
            }
        }
    }

    #[test]
    fn column_major_copies_strided_views_by_their_own_strides() {
        // Rows that are not contiguous (a transposed matrix, every other row reversed) take
        // the element-by-element path; 600 rows span several blocks and padded columns.
        let m = ndarray::Array2::from_shape_fn((40, 600), |(i, j)| (i * 1000 + j) as f32);
        for v in [m.t(), m.slice(s![..;-2, ..]).reversed_axes()] {
            let c = column_major(v);
            assert_eq!(c, v, "{:?}", v.dim());
            assert_eq!(c.strides(), [1, padded::<f32>(v.nrows()) as isize]);
        }
    }

    #[test]
    fn long_columns_are_an_odd_number_of_cache_lines_apart() {
        // f32: 16 per line. 2048 rows are 128 lines (even): one line more; 2000 are 125 (odd);
        // 2001 need 126: 127.
        for (n, ld) in [(2048usize, 2064usize), (2000, 2000), (2001, 2032), (255, 255), (200_000, 200_016)] {
            assert_eq!(padded::<f32>(n), ld, "{n}");
            let x = ndarray::Array2::from_shape_fn((n, 3), |(i, j)| (i * 10 + j) as f32);
            let c = column_major(x.view());
            assert_eq!(c, x, "{n}");
            assert_eq!(c.strides(), [1, ld as isize], "{n}");
        }
        // f64: 8 per line; an odd line count already.
        assert_eq!(padded::<f64>(1000), 1000);
        assert_eq!(padded::<f64>(1024), 1032);
        // Sizes that do not divide a line are not padded.
        assert_eq!(padded::<[u8; 3]>(4096), 4096);
    }

    #[test]
    fn strided_and_rank_3_inputs_keep_their_values() {
        let x = Array3::from_shape_fn((4, 5, 6), |(i, j, k)| (i * 100 + j * 10 + k) as i64);
        let v = x.slice(s![.., ..;2, ..;-1]);
        for axis in 0..3 {
            assert!(needs_copy(&v.into_dyn(), axis), "axis {axis} of a strided view");
            let c = contiguous_along(v.into_dyn(), axis);
            assert_eq!(c, v.into_dyn(), "axis {axis}");
            assert_eq!(c.strides()[axis], 1, "axis {axis}");
        }
        let m = ndarray::Array2::from_shape_fn((9, 4), |(i, j)| (i + 10 * j) as f64);
        let t = m.t();
        assert!(!needs_copy(&t.into_dyn(), 0), "a transposed row-major matrix is column-major already");
        let c = contiguous_along(m.view().into_dyn(), 0);
        assert_eq!(c, m.into_dyn());
    }
}
