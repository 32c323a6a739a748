use std::process::ExitCode;

use clap::Parser;

/// See Cargo.toml: the allocator of the binary (tests and benches keep the system one).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[rocket::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // PostgreSQL's notices (“relation … already exists, skipping” from each start's
        // migration check) are not for the user.
        // Rocket's per-request and per-route lines are left out too: the request log
        // (target pufa::request) writes one line per request.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,sqlx::postgres::notice=warn,rocket=warn,rocket_dyn_templates=warn",
            )
        });
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal, not in journald or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // PUFA_LOG=json: one JSON object per line (for a log collector); else plain lines.
    if std::env::var("PUFA_LOG").is_ok_and(|v| v.trim().eq_ignore_ascii_case("json")) {
        log.json().flatten_event(true).init();
    } else {
        log.init();
    }
    pufa::cli::run(pufa::cli::Cli::parse()).await
}
