//! A process-wide pool of large read buffers.
//!
//! A large message (an image, a 1 MiB echo) is read into a buffer of its exact size, handed
//! to the handler as `Bytes`, and often referenced again by the reply until that is written.
//! Allocating and freeing such buffers for every call makes the allocator's memory grow far
//! past what is live (glibc raises its mmap threshold after the first free and then serves
//! them from fragmenting heaps), and costs page faults on fresh memory. Recycling them keeps
//! the process at its live set: a freed buffer goes back to the pool (up to
//! [`MAX_POOLED_BYTES`]) and the next large message of a similar size reuses it.

use std::sync::Mutex;

use bytes::Bytes;

/// Idle buffers kept for reuse, in bytes of capacity; past this, freed buffers are freed.
pub const MAX_POOLED_BYTES: usize = 64 * 1024 * 1024;

/// A reused buffer may be at most this much larger than asked (a quarter of the request plus
/// 64 KiB), so a small message never pins a huge buffer.
fn fits(capacity: usize, len: usize) -> bool {
    capacity >= len && capacity <= len + len / 4 + 64 * 1024
}

#[derive(Debug)]
struct Pool {
    free: Vec<Vec<u8>>,
    pooled: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    free: Vec::new(),
    pooled: 0,
});

/// An empty buffer with capacity for at least `len` bytes, reused when the pool has one.
pub fn take(len: usize) -> Vec<u8> {
    {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        // Best fit: the smallest idle buffer that holds `len`.
        let best = pool
            .free
            .iter()
            .enumerate()
            .filter(|(_, v)| fits(v.capacity(), len))
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i);
        if let Some(i) = best {
            let buf = pool.free.swap_remove(i);
            pool.pooled -= buf.capacity();
            return buf;
        }
    }
    // Rounded up to whole pages, so that messages of nearly equal sizes share buffers.
    Vec::with_capacity(len.div_ceil(4096) * 4096)
}

/// Returns `buf` to the pool, or frees it when the pool is full.
fn give(mut buf: Vec<u8>) {
    buf.clear();
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool.pooled + buf.capacity() <= MAX_POOLED_BYTES {
        pool.pooled += buf.capacity();
        pool.free.push(buf);
    }
}

/// Owns a pooled buffer while `Bytes` refer to it; gives it back when the last one drops.
struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.0));
    }
}

/// `buf`'s bytes as `Bytes` (no copy); the buffer returns to the pool once they are dropped.
pub fn freeze(buf: Vec<u8>) -> Bytes {
    Bytes::from_owner(Pooled(buf))
}

/// Idle bytes in the pool (tests).
#[cfg(test)]
pub fn pooled() -> usize {
    POOL.lock().unwrap_or_else(|e| e.into_inner()).pooled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_buffer_is_reused_for_a_similar_size_only() {
        let mut a = take(1 << 20);
        a.extend_from_slice(&[7; 1 << 20]);
        let ptr = a.as_ptr();
        let bytes = freeze(a);
        let slice = bytes.slice(10..20);
        drop(bytes);
        assert_eq!(&slice[..], &[7; 10]);
        drop(slice);
        // Similar size: the same memory comes back, empty.
        let b = take((1 << 20) - 100);
        assert_eq!((b.as_ptr(), b.len()), (ptr, 0));
        // A small request does not take a large buffer.
        give(b);
        let c = take(4096);
        assert_ne!(c.as_ptr(), ptr);
        assert!(pooled() <= MAX_POOLED_BYTES);
    }
}
