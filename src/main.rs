use std::process::ExitCode;

/// jemalloc, not the system's allocator: with glibc's, malloc and free took a third of
/// a plan's CPU, and a plan of 50,000 users held more memory.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Freed memory goes back to the system from a background thread, not from the
    // thread that freed it (inline, it cost a first sync of 50,000 users 4% of its
    // time). Best effort: where there are no such threads, it is done inline.
    #[cfg(not(target_env = "msvc"))]
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    scimops::run(std::env::args_os())
}
