use std::process::ExitCode;

use clap::Parser;

/// See Cargo.toml: the allocator of the binary (tests and benches keep the system one).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[rocket::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // PostgreSQL's notices (“relation … already exists, skipping” from each
                // start's migration check) are not for the user.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    pufa::cli::run(pufa::cli::Cli::parse()).await
}
