use std::process::ExitCode;

use clap::Parser;

/// See Cargo.toml: the allocator of the binary (tests and benches keep the system one).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // A parse worker (see sheets::read::worker) reads one upload and exits: no runtime, no
    // logging set-up, nothing but the reader under its limits.
    if args.get(1).map(String::as_str) == Some(pufa::sheets::read::worker::WORKER_ARG) {
        return ExitCode::from(pufa::sheets::read::worker::run_worker(&args[2..]) as u8);
    }
    // Every upload this process reads (server and CLI alike) is read by a child of it,
    // started from /proc/self/exe where there is one: that is this program even after an
    // upgrade replaced or removed the file at its path (which would start another version,
    // or nothing, until a restart).
    let own_image = std::path::Path::new("/proc/self/exe");
    match std::env::current_exe() {
        Ok(_) if own_image.exists() => pufa::sheets::read::worker::use_worker(own_image.into()),
        Ok(exe) => pufa::sheets::read::worker::use_worker(exe),
        Err(e) => eprintln!("无法确定程序路径，表格将在本进程中读取：{e}"),
    }
    rocket::execute(run())
}

async fn run() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // PostgreSQL's notices (“relation … already exists, skipping” from each start's
        // migration check) are not for the user.
        // Rocket's per-request and per-route lines are left out too: the request log
        // (target pufa::request) writes one line per request. Rocket says it launched, and
        // that a signal stops it, as warnings; pufa says both itself, as the news they are.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,sqlx::postgres::notice=warn,rocket=warn,rocket::launch=error,\
                 rocket::server=error,rocket_dyn_templates=warn",
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
