//! Untrusted files are read in a child process: the `pufa` binary started with
//! [`WORKER_ARG`], under memory and CPU limits it sets on itself before it reads a byte, and
//! a wall-time limit the server enforces by killing it. A reader bug (ours or a
//! dependency's) that panics, aborts, loops or eats memory costs that child only; the
//! uploader is told the file could not be read.
//!
//! Protocol: the file's name is the last argument, its bytes come on stdin, and the child
//! answers on stdout with the cells as it reads them (or the reader's refusal), in frames
//! (see `stream`).

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::stream::{FrameWriter, Received, Receiver, MAX_FRAME_BYTES};
use super::{read_grids, read_sheets, ReadError, SheetGrid, MAX_UPLOAD_BYTES};

/// The first argument that makes `pufa` a parse worker instead of a command.
pub const WORKER_ARG: &str = "__parse-worker";

/// mimalloc reserves address space a gigabyte at a time, so under a 1 GiB address-space
/// limit an ordinary 100,000-row read (85 MB resident) failed now and then; with 64 MiB
/// reservations its address space stays within twice what it uses.
pub const ARENA_VARIABLE: &str = "MIMALLOC_ARENA_RESERVE";
pub const ARENA_RESERVE: &str = "64MiB";

/// What one parse may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Address space of the child (RLIMIT_AS).
    pub memory_bytes: u64,
    /// CPU time of the child (RLIMIT_CPU); the kernel stops it past this.
    pub cpu_seconds: u64,
    /// Wall time, counted by the server, after which the child is killed.
    pub wall: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // The largest legitimate file (20 MB, 5 million cells) reads in well under this;
            // the fuzz run's peak was far below it.
            memory_bytes: 1024 * 1024 * 1024,
            cpu_seconds: 20,
            wall: Duration::from_secs(30),
        }
    }
}

/// The pipe the answer comes through holds this much, so the worker writes a large answer
/// in a few large steps instead of waiting for the server every 64 KiB.
const PIPE_BYTES: libc::c_int = 1024 * 1024;

static WORKER: OnceLock<PathBuf> = OnceLock::new();

/// Makes every later read of an upload run in a child started from `exe` (the `pufa`
/// binary). Without it files are read in this process (unit tests, library use).
pub fn use_worker(exe: PathBuf) {
    let _ = WORKER.set(exe);
}

/// Whether uploads are read in a child process.
pub fn isolated() -> bool {
    WORKER.get().is_some()
}

/// Reads the upload's sheets in a worker when one is configured (else on a blocking
/// thread). The worker is killed when its time is up or when this future is dropped, so a
/// cancelled request stops the work too.
pub async fn read_isolated(
    file_name: &str,
    bytes: &[u8],
    limits: Limits,
) -> Result<Vec<SheetGrid>, ReadError> {
    let Some(exe) = WORKER.get() else {
        let (name, bytes) = (file_name.to_string(), bytes.to_vec());
        return tokio::task::spawn_blocking(move || read_grids(&name, &bytes))
            .await
            .unwrap_or(Err(ReadError::Unreadable));
    };
    // The limits the reader checks first need no child.
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as f64 / 1024.0 / 1024.0));
    }
    let mut child = tokio::process::Command::new(exe)
        .arg(WORKER_ARG)
        .arg(limits.memory_bytes.to_string())
        .arg(limits.cpu_seconds.to_string())
        .arg(file_name)
        .env("RUST_BACKTRACE", "0")
        .env(ARENA_VARIABLE, ARENA_RESERVE)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            tracing::error!(error = %e, "could not start the parse worker");
            ReadError::Unreadable
        })?;
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(ReadError::Unreadable);
    };
    widen_pipe(&stdout);
    let work = async {
        let feed = async {
            // A child that dies early closes its end; what it says on stdout tells why.
            let _ = stdin.write_all(bytes).await;
            drop(stdin);
        };
        let mut complaint = Vec::new();
        // stderr is kept short.
        let mut err = (&mut stderr).take(1 << 20);
        let (_, answer, _) = tokio::join!(
            feed,
            // What the answer may add up to is bounded by the child's own memory.
            receive(stdout.take(limits.memory_bytes)),
            err.read_to_end(&mut complaint)
        );
        complaint.truncate(4096);
        let status = child.wait().await;
        (status, answer, complaint)
    };
    let (status, answer, complaint) = match tokio::time::timeout(limits.wall, work).await {
        Ok(done) => done,
        Err(_) => {
            // `child` is dropped with the timed-out future: kill_on_drop stops it.
            tracing::warn!(
                file = file_name,
                "parse worker ran out of time and was killed"
            );
            return Err(ReadError::Unreadable);
        }
    };
    match (status, answer) {
        (Ok(status), Some(answer)) if status.success() => answer,
        (Ok(status), None) if status.success() => {
            tracing::error!("parse worker's answer could not be decoded");
            Err(ReadError::Unreadable)
        }
        (other, _) => {
            tracing::warn!(
                file = file_name,
                status = ?other,
                stderr = %String::from_utf8_lossy(&complaint),
                "parse worker failed"
            );
            Err(ReadError::Unreadable)
        }
    }
}

/// The worker's answer, laid out as its frames arrive; `None` when it is not a complete
/// answer (cut short, or not frames a worker sends).
async fn receive(
    stdout: impl tokio::io::AsyncRead + Unpin,
) -> Option<Result<Vec<SheetGrid>, ReadError>> {
    let mut stdout = tokio::io::BufReader::with_capacity(PIPE_BYTES as usize, stdout);
    let mut receiver = Receiver::default();
    let mut frame = Vec::new();
    loop {
        let length = stdout.read_u32_le().await.ok()? as usize;
        if length > MAX_FRAME_BYTES {
            return None;
        }
        frame.resize(length, 0);
        stdout.read_exact(&mut frame).await.ok()?;
        match receiver.frame(&frame)? {
            Received::More => {}
            Received::Done(done) => {
                // Nothing may follow the end.
                let mut rest = [0u8; 1];
                return match stdout.read(&mut rest).await {
                    Ok(0) => Some(done),
                    _ => None,
                };
            }
            // The pipe closes with this function: the child stops at its next write.
            Received::Refused(refused) => return Some(Err(refused)),
        }
    }
}

/// Asks the kernel for a larger pipe (at most what `/proc/sys/fs/pipe-max-size` allows; a
/// refusal leaves the pipe as it was, which only costs time).
fn widen_pipe(pipe: &impl std::os::fd::AsRawFd) {
    // SAFETY: F_SETPIPE_SZ changes only the capacity of the pipe behind this open
    // descriptor, which `pipe` keeps open for the duration of the call.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BYTES);
    }
}

/// Caps this process's address space and CPU time (the kernel enforces both), as a worker
/// does before it reads; false when the kernel refuses.
pub fn limit_self(memory_bytes: u64, cpu_seconds: u64) -> bool {
    let limit = |value: u64| libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit only reads the struct it is given and changes only this process.
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &limit(memory_bytes)) == 0
            && libc::setrlimit(libc::RLIMIT_CPU, &limit(cpu_seconds)) == 0
    }
}

/// The child's side: `args` are what follows [`WORKER_ARG`]. Returns the exit code.
pub fn run_worker(args: &[String]) -> i32 {
    let [memory, cpu, file_name] = args else {
        eprintln!("usage: pufa {WORKER_ARG} MEMORY_BYTES CPU_SECONDS FILE_NAME < file");
        return 2;
    };
    let (Ok(memory), Ok(cpu)) = (memory.parse::<u64>(), cpu.parse::<u64>()) else {
        eprintln!("{WORKER_ARG}: limits must be numbers");
        return 2;
    };
    if !limit_self(memory, cpu) {
        eprintln!("{WORKER_ARG}: could not set limits");
        return 3;
    }
    let mut bytes = Vec::new();
    if std::io::stdin()
        .take(MAX_UPLOAD_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return 4;
    }
    // A panic in a reader is an answer too (the file cannot be read), not a crash report.
    std::panic::set_hook(Box::new(|info| eprintln!("reader panicked: {info}")));
    // Written straight into the pipe as the cells are read.
    let mut out = FrameWriter::new(std::io::BufWriter::with_capacity(
        1 << 16,
        std::io::stdout().lock(),
    ));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_sheets(file_name, &bytes, &mut out)
    }))
    .unwrap_or(Err(ReadError::Unreadable));
    match out.finish(outcome) {
        Ok(_) => 0,
        Err(_) => 6,
    }
}
