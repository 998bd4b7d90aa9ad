use std::process::ExitCode;

use clap::Parser;
use sluice::cli::Cli;

// Requests allocate and free many short-lived buffers across threads (bodies, rows, SQL);
// mimalloc keeps them in per-thread pages where glibc's malloc keeps consolidating.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match sluice::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sluice: {error}");
            ExitCode::FAILURE
        }
    }
}
