//! How the process's allocator treats the big per-file buffers.

/// Makes glibc's malloc keep the buffers of one file for the next instead of handing them
/// back to the kernel. Each photo allocates several 10–50 MB buffers (decoded pixels, the
/// encoder's, the verifying decode's). By default glibc serves those with fresh `mmap`s and
/// returns them on `free`, so every file pays for zeroing and faulting in the same pages
/// again: 0.4 s of system time on the 12 benchmark photos, against 0.1 s with this (and the
/// batch 9 % faster). Up to 32 MB come from the heap (glibc 2.34 and older refuse more on
/// 64-bit), and up to 128 MB may stay in it free. Call before starting threads; a no-op
/// where the C library is not glibc.
pub fn keep_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 128 << 20;
        // SAFETY: mallopt only sets allocator parameters; called before any worker thread exists.
        // Setting the trim threshold alone would turn off glibc's own rising mmap threshold,
        // which is worse than the default, so it follows only a threshold that was accepted.
        unsafe {
            if libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 {
                libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            }
        }
    }
}
