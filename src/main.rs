use std::process::ExitCode;

/// mimalloc, not the C library's allocator: a page view allocates thousands of
/// small strings, and glibc's malloc and free were a fifth of Tessera's time
/// under load (`perf`, the ticket page of bench/run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tessera::cli::main()
}
