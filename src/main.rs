use std::process::ExitCode;

/// mimalloc instead of the system allocator: a page allocates and frees many
/// short strings and one large body per request, and glibc's allocator spent
/// a tenth of the machine on it under load (bench/, perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tessera::cli::main()
}
