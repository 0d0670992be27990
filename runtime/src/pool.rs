//! A bounded cache of large freed host blocks, for programs that install [`PoolAlloc`] as their
//! global allocator: what CuPy's and PyTorch's memory pools are for device memory, on the host.
//!
//! A new array returned by a kernel call owns its memory (an ndarray array over a `Vec`), so
//! when the caller drops it the block goes back to the process's global allocator; for a
//! large array glibc's `malloc` gives it back to the operating system (`munmap`), and the
//! next call's output of the same size pays again for fresh pages: a page fault per 4 KiB (or
//! 2 MiB) page and the kernel zeroing it, which costs about as much as the kernel that writes
//! the array. [`PoolAlloc`] keeps freed blocks of at least [`MIN_BLOCK`] bytes, up to a
//! bounded total ([`set_limit`], [`DEFAULT_LIMIT`] by default), and hands one back to the next
//! allocation of exactly the same size and a compatible alignment, already mapped: a call
//! returning a new array then costs what writing into an existing one costs. Smaller blocks,
//! zeroed allocations (fresh pages are already zero) and everything past the bound go to the
//! system allocator unchanged.
//!
//! It is opt-in, one line in a binary (a library cannot choose the global allocator):
//!
//! ```
//! #[global_allocator]
//! static ALLOC: kiln_runtime::PoolAlloc = kiln_runtime::PoolAlloc;
//! ```
//!
//! kiln's own binaries (`kiln`, `tune`, `kiln-bench`, `kiln-bench-estimators`) install it.
//! When a block is freed and the pool is full (the bound or its 32 slots), the oldest cached
//! blocks go back to the system first. [`release`] gives every cached block
//! back to the system (as `torch.cuda.empty_cache()` does); when the system refuses an
//! allocation the pool releases its blocks and asks once more, so out-of-memory stays what
//! it was (a null pointer, which kiln reports as a typed error). Without the allocator
//! installed, [`release`] and [`stats`] see an empty pool.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The smallest block the pool keeps (1 MiB): below it `malloc` reuses memory itself.
pub const MIN_BLOCK: usize = 1 << 20;

/// The default bound on the bytes the pool holds: 1 GiB.
pub const DEFAULT_LIMIT: usize = 1 << 30;

/// How many blocks the pool can hold at once (a fixed table: the allocator must not allocate).
const SLOTS: usize = 32;

/// A cached block: its address and the layout it was allocated with.
#[derive(Clone, Copy)]
struct Block {
    addr: usize,
    size: usize,
    align: usize,
}

/// The cached blocks, most recently freed last.
struct Cache {
    blocks: [Option<Block>; SLOTS],
    bytes: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache { blocks: [None; SLOTS], bytes: 0 });
static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT);
static HITS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

/// The global allocator that caches large freed blocks (see the [module docs](self)):
/// [`System`] for everything else.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolAlloc;

/// What the pool holds and how often it served an allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes held in cached blocks now.
    pub cached_bytes: usize,
    /// Blocks held now.
    pub cached_blocks: usize,
    /// Allocations of at least [`MIN_BLOCK`] bytes served from the cache.
    pub hits: u64,
    /// Allocations of at least [`MIN_BLOCK`] bytes the cache could not serve.
    pub misses: u64,
    /// The bound on `cached_bytes`.
    pub limit: usize,
}

/// The pool's counters now.
pub fn stats() -> PoolStats {
    let (bytes, blocks) = match CACHE.lock() {
        Ok(c) => (c.bytes, c.blocks.iter().flatten().count()),
        Err(_) => (0, 0),
    };
    PoolStats {
        cached_bytes: bytes,
        cached_blocks: blocks,
        hits: HITS.load(Ordering::Relaxed),
        misses: MISSES.load(Ordering::Relaxed),
        limit: LIMIT.load(Ordering::Relaxed),
    }
}

/// Set the bound on the bytes the pool holds (0 turns caching off); blocks over the new bound
/// are released at once.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
    let over = take_while_over(bytes);
    free_all(&over);
}

/// Give every cached block back to the system; returns the bytes released.
pub fn release() -> usize {
    let all = take_while_over(0);
    free_all(&all)
}

/// Give back the memory kiln keeps cached for `device`: the host pool ([`release`]) for the
/// host devices, the GPU's stream-ordered pool for `Device::Cuda(n)` (whose freed buffers
/// stay cached up to 1 GiB, `kiln_cuda::driver::DEFAULT_POOL_LIMIT`).
///
/// # Errors
/// For `Device::Cuda(n)`: the device cannot be opened (no driver, no such device) or the
/// driver fails.
pub fn release_device(device: crate::Device) -> crate::Result<()> {
    match device {
        crate::Device::Cuda(n) => {
            let dev = kiln_cuda::driver::CudaDevice::open(n).map_err(|e| crate::tensor::cuda_error(device, e))?;
            dev.release_pool().map_err(|e| crate::tensor::cuda_error(device, e))
        }
        _ => {
            release();
            Ok(())
        }
    }
}

/// Take blocks out of the cache, oldest first, until it holds at most `bound` bytes.
fn take_while_over(bound: usize) -> [Option<Block>; SLOTS] {
    let mut out = [None; SLOTS];
    let Ok(mut guard) = CACHE.lock() else { return out };
    let c = &mut *guard;
    for (slot, o) in c.blocks.iter_mut().zip(&mut out) {
        if c.bytes <= bound {
            break;
        }
        if let Some(b) = slot.take() {
            c.bytes -= b.size;
            *o = Some(b);
        }
    }
    out
}

/// Free taken blocks with the system allocator; returns their bytes.
fn free_all(blocks: &[Option<Block>]) -> usize {
    let mut bytes = 0;
    for b in blocks.iter().flatten() {
        // SAFETY: every cached block was allocated by `System` with exactly this layout
        // (checked when it was created) and is owned by the pool alone once taken out.
        unsafe { System.dealloc(b.addr as *mut u8, Layout::from_size_align_unchecked(b.size, b.align)) };
        bytes += b.size;
    }
    bytes
}

/// A cached block of exactly `layout`'s size whose address satisfies its alignment.
fn take_fitting(layout: Layout) -> Option<*mut u8> {
    let mut c = CACHE.lock().ok()?;
    // The most recently freed first: its pages are the likeliest to be in cache and mapped.
    let slot = c
        .blocks
        .iter_mut()
        .rev()
        .find(|b| b.is_some_and(|b| b.size == layout.size() && b.addr % layout.align() == 0))?;
    let b = slot.take()?;
    c.bytes -= b.size;
    Some(b.addr as *mut u8)
}

/// Keep a freed block if it fits under the bound, making room by giving the oldest cached
/// blocks back to the system (a pool full of sizes no longer asked for keeps caching the
/// newest); false when the caller must free it (a block over the bound on its own).
fn keep(ptr: *mut u8, layout: Layout) -> bool {
    let limit = LIMIT.load(Ordering::Relaxed);
    if layout.size() > limit {
        return false;
    }
    let mut evicted = [None; SLOTS];
    {
        let Ok(mut guard) = CACHE.lock() else { return false };
        let c = &mut *guard;
        // Oldest first (the table is kept ordered oldest to newest).
        let mut next = 0;
        while c.bytes + layout.size() > limit || c.blocks.iter().all(Option::is_some) {
            let Some(b) = c.blocks.iter_mut().find_map(Option::take) else { return false };
            c.bytes -= b.size;
            evicted[next] = Some(b);
            next += 1;
        }
        let Some(slot) = c.blocks.iter().position(Option::is_none) else { return false };
        // Keep the table ordered oldest to newest: move the newer blocks down one place.
        c.blocks[slot..].rotate_left(1);
        c.blocks[SLOTS - 1] = Some(Block { addr: ptr as usize, size: layout.size(), align: layout.align() });
        c.bytes += layout.size();
    }
    free_all(&evicted);
    true
}

// SAFETY: every block handed out is either fresh from `System` or a block `System` allocated
// with the same size, whose address satisfies the requested alignment, and which its
// previous owner freed (so no one else holds it); every block is freed through `System` with
// a layout `System` accepts for it (glibc's `free` and the other platforms' `System` only
// need the size and alignment it was allocated with, which the cache records).
unsafe impl GlobalAlloc for PoolAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() < MIN_BLOCK {
            // SAFETY: forwarded with the caller's layout (nonzero size, the caller's contract).
            return unsafe { System.alloc(layout) };
        }
        if let Some(p) = take_fitting(layout) {
            HITS.fetch_add(1, Ordering::Relaxed);
            return p;
        }
        MISSES.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() && release() > 0 {
            // SAFETY: as above.
            return unsafe { System.alloc(layout) };
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Fresh pages are zero already (a cached block would need a serial pass to clear it).
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() && layout.size() >= MIN_BLOCK && release() > 0 {
            // SAFETY: as in `alloc`.
            return unsafe { System.alloc_zeroed(layout) };
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= MIN_BLOCK && keep(ptr, layout) {
            return;
        }
        // SAFETY: `ptr` was allocated by this allocator with `layout`, so by `System` with it.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: every block this allocator hands out is a `System` block of `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool's logic on its own (the test binary's global allocator is the system's):
    /// a freed block of the same size is handed back, others are not, the bound holds, and
    /// `release` empties it. One test, since the pool is process-wide.
    #[test]
    fn pool_reuses_same_size_blocks_within_its_bound_and_releases_them() {
        let a = PoolAlloc;
        let big = Layout::from_size_align(MIN_BLOCK * 4, 64).unwrap();
        let other = Layout::from_size_align(MIN_BLOCK * 3, 64).unwrap();
        // SAFETY: nonzero layouts; every pointer is freed once with its own layout.
        unsafe {
            let p = a.alloc(big);
            assert!(!p.is_null());
            p.write_bytes(7, big.size());
            a.dealloc(p, big);
            assert_eq!(stats().cached_bytes, big.size());
            let q = a.alloc(other);
            assert_ne!(q, p, "a block of another size is not reused");
            let r = a.alloc(big);
            assert_eq!(r, p, "the freed block of the same size is reused");
            assert_eq!(stats().cached_bytes, 0);
            a.dealloc(q, other);
            a.dealloc(r, big);
            assert_eq!(stats().cached_bytes, big.size() + other.size());
            set_limit(big.size());
            assert!(stats().cached_bytes <= big.size(), "{:?}", stats());
            let s = a.alloc(Layout::from_size_align(MIN_BLOCK * 5, 64).unwrap());
            a.dealloc(s, Layout::from_size_align(MIN_BLOCK * 5, 64).unwrap());
            assert!(stats().cached_bytes <= big.size(), "over the bound: {:?}", stats());
            assert_eq!(stats().cached_blocks, 1, "the newest block is kept, the older ones given back");
            assert!(release() > 0);
            assert_eq!((stats().cached_bytes, stats().cached_blocks), (0, 0));
            // More blocks than slots: the oldest are given back, the newest SLOTS kept.
            let small = Layout::from_size_align(MIN_BLOCK, 64).unwrap();
            set_limit(MIN_BLOCK * (SLOTS + 8));
            let ps: Vec<*mut u8> = (0..SLOTS + 4).map(|_| a.alloc(small)).collect();
            for &p in &ps {
                a.dealloc(p, small);
            }
            assert_eq!(stats().cached_blocks, SLOTS);
            let newest = a.alloc(small);
            assert_eq!(newest, ps[SLOTS + 3], "the most recently freed block comes back first");
            a.dealloc(newest, small);
            release();
            set_limit(DEFAULT_LIMIT);
            // Small and zeroed allocations bypass the pool.
            let z = a.alloc_zeroed(big);
            assert!(std::slice::from_raw_parts(z, big.size()).iter().all(|&b| b == 0));
            a.dealloc(z, big);
            let hits = stats().hits;
            let z2 = a.alloc_zeroed(big);
            assert!(std::slice::from_raw_parts(z2, big.size()).iter().all(|&b| b == 0));
            assert_eq!(stats().hits, hits, "zeroed allocations are never served from the cache");
            a.dealloc(z2, big);
            release();
        }
    }
}
