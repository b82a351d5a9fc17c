use std::process::ExitCode;

/// jemalloc, not the system's allocator: with glibc's, malloc and free took a third of
/// a plan's CPU, and a plan held more memory.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    scimops::run(std::env::args_os())
}
