//! Mutation fuzzer for pufa's spreadsheet reader.
//!
//! `cargo run --release --example fuzz_reader -- --iterations N --seed S [--save DIR]`
//! (`--save` keeps the inputs that panicked or were lost, the slowest and the largest;
//! `--dump I --save DIR` writes input I of the seed).
//!
//! Inputs are made from the corpus (see mutate.rs) and read by `read_streamed`, the code the
//! parse worker runs (then the server's laying out of what it sends), in child processes under the worker's own memory limit: a child
//! that dies (an abort, the memory limit) is what the server's worker would do, and the run
//! goes on in a new child from the next input. Prints one JSON line: inputs, outcomes
//! (read, refused, panics, children lost, refusals not in Chinese), the slowest input and
//! the peak memory of any child. Exit code 1 when an input panicked, was not answered, or
//! was refused without a Chinese message.

mod mutate;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pufa::sheets::read::read_streamed;
use pufa::sheets::read::worker::{self, Limits};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    iterations: u64,
    seed: u64,
    save: Option<PathBuf>,
    child: Option<(u64, u64)>,
    dump: Option<u64>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        iterations: 10_000,
        seed: 1,
        save: None,
        child: None,
        dump: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let value = |i: &mut usize| -> Result<String, String> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| format!("{} needs a value", args[*i - 1]))
    };
    while i < args.len() {
        match args[i].as_str() {
            "--iterations" => {
                options.iterations = value(&mut i)?.parse().map_err(|e| format!("{e}"))?
            }
            "--seed" => options.seed = value(&mut i)?.parse().map_err(|e| format!("{e}"))?,
            "--save" => options.save = Some(value(&mut i)?.into()),
            "--dump" => options.dump = Some(value(&mut i)?.parse().map_err(|e| format!("{e}"))?),
            "--child" => {
                let from = value(&mut i)?.parse().map_err(|e| format!("{e}"))?;
                let to = value(&mut i)?.parse().map_err(|e| format!("{e}"))?;
                options.child = Some((from, to));
            }
            other => return Err(format!("unknown argument {other}")),
        }
        i += 1;
    }
    Ok(options)
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes a line to stdout without std's buffer or lock (shared across fork).
fn say(line: &str) {
    // SAFETY: writes the bytes of a live string to fd 1.
    unsafe { libc::write(1, line.as_ptr().cast(), line.len()) };
}

/// A `Vm…:` figure of /proc/self/status, in kB.
fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(key)).and_then(|l| {
                l[key.len()..]
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// The child: for each input `from..to`, forks a process that reads it under the worker's
/// memory limit, as the server's worker reads one file per process, and says before each
/// which one it starts (`S i`) and how it went: `D i micros kilobytes outcome` (the memory
/// the read added to the process at its peak), or `L i micros` when the process died.
fn child(seed: u64, from: u64, to: u64) -> i32 {
    // The corpus is made before any limit (rust_xlsxwriter writes on threads).
    let corpus = mutate::corpus(&repository());
    let limits = Limits::default();
    // FUZZ_BACKTRACE=1 keeps the standard hook, for a backtrace of one input.
    if std::env::var_os("FUZZ_BACKTRACE").is_none() {
        std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    }
    for index in from..to {
        let input = mutate::input(seed, index, &corpus);
        say(&format!("S {index}\n"));
        let started = Instant::now();
        // SAFETY: this process has one thread; the forked one only reads and exits.
        match unsafe { libc::fork() } {
            0 => {
                if !worker::limit_self(limits.memory_bytes, limits.cpu_seconds) {
                    // SAFETY: ends the forked process without running the parent's exit code.
                    unsafe { libc::_exit(3) }
                }
                // The process's peak is measured from here: what the fork inherited (the
                // corpus, the mutation's buffers) is the baseline, not the reader's.
                let _ = std::fs::write("/proc/self/clear_refs", "5");
                let before = status_kb("VmRSS:");
                let outcome =
                    match std::panic::catch_unwind(|| read_streamed(&input.name, &input.bytes)) {
                        Ok(Ok(_)) => "read".to_string(),
                        Ok(Err(e)) if mutate::is_chinese(&e.to_string()) => "refused".to_string(),
                        Ok(Err(e)) => format!("english {e}").replace('\n', " "),
                        Err(_) => "panic".to_string(),
                    };
                let grown = status_kb("VmHWM:").saturating_sub(before);
                let micros = started.elapsed().as_micros();
                say(&format!("D {index} {micros} {grown} {outcome}\n"));
                // SAFETY: ends the forked process without running the parent's exit code.
                unsafe { libc::_exit(0) }
            }
            pid if pid > 0 => {
                let mut status = 0;
                // SAFETY: waitpid fills the status of our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
                    say(&format!("L {index} {}\n", started.elapsed().as_micros()));
                }
            }
            _ => return 4,
        }
    }
    0
}

#[derive(Default)]
struct Tally {
    read: u64,
    refused: u64,
    panics: Vec<u64>,
    lost: Vec<u64>,
    english: Vec<(u64, String)>,
    slowest: (u64, u64),
    /// The largest peak memory of one input's process, in kilobytes, and which input.
    peak: (u64, u64),
}

fn save(options: &Options, corpus: &[mutate::Seed], index: u64, what: &str) {
    let Some(dir) = &options.save else {
        return;
    };
    let input = mutate::input(options.seed, index, corpus);
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(
        dir.join(format!("{what}-{index}-{}", input.name)),
        input.bytes,
    );
}

fn main() {
    let options = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\nusage: fuzz_reader --iterations N --seed S [--save DIR]");
            std::process::exit(2);
        }
    };
    if let Some((from, to)) = options.child {
        std::process::exit(child(options.seed, from, to));
    }
    let corpus = mutate::corpus(&repository());
    if let Some(index) = options.dump {
        // --dump I --save DIR: writes input I of the seed, to look at it.
        save(&options, &corpus, index, "input");
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut next = 0u64;
    // No input may take longer than the worker's wall time; past it the child is killed.
    let wall = Limits::default().wall;
    while next < options.iterations {
        let mut child = Command::new(&exe)
            .args(["--seed", &options.seed.to_string()])
            .args([
                "--child",
                &next.to_string(),
                &options.iterations.to_string(),
            ])
            // The worker's allocator settings, so that its memory limit means the same.
            .env(worker::ARENA_VARIABLE, worker::ARENA_RESERVE)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a child");
        let stdout = child.stdout.take().expect("child's stdout");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut current: Option<(u64, Instant)> = None;
        let first = next;
        loop {
            match rx.recv_timeout(wall) {
                Ok(line) => {
                    let mut parts = line.splitn(3, ' ');
                    let (tag, index) = (parts.next(), parts.next().and_then(|i| i.parse().ok()));
                    let Some(index) = index else { continue };
                    if tag == Some("S") {
                        current = Some((index, Instant::now()));
                        continue;
                    }
                    current = None;
                    next = index + 1;
                    let mut parts = parts.next().unwrap_or("").splitn(3, ' ');
                    let mut number =
                        || -> u64 { parts.next().and_then(|m| m.parse().ok()).unwrap_or(0) };
                    let micros = number();
                    if micros > tally.slowest.1 {
                        tally.slowest = (index, micros);
                    }
                    if tag == Some("L") {
                        // The reading process died (an abort, the memory limit): the
                        // server's worker would have answered 无法读取 for it.
                        tally.lost.push(index);
                        save(&options, &corpus, index, "lost");
                        continue;
                    }
                    let grown = number();
                    if grown > tally.peak.0 {
                        tally.peak = (grown, index);
                    }
                    match parts.next().unwrap_or("") {
                        "read" => tally.read += 1,
                        "refused" => tally.refused += 1,
                        "panic" => {
                            tally.panics.push(index);
                            save(&options, &corpus, index, "panic");
                        }
                        english => {
                            tally.english.push((index, english.to_string()));
                            save(&options, &corpus, index, "english");
                        }
                    }
                    if (index + 1) % 50_000 == 0 {
                        eprintln!(
                            "{} inputs, {:.0} s",
                            index + 1,
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    break;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait();
        if current.is_none() && next == first {
            eprintln!(
                "a child read nothing ({status:?}): run it alone with --child {first} {}",
                first + 1
            );
            std::process::exit(2);
        }
        if let Some((index, since)) = current {
            // The child died (or was killed) on this input: the server's worker would have
            // answered 无法读取 for it, after this long.
            let micros = since.elapsed().as_micros() as u64;
            if micros > tally.slowest.1 {
                tally.slowest = (index, micros);
            }
            tally.lost.push(index);
            save(&options, &corpus, index, "lost");
            next = index + 1;
        }
    }
    let elapsed = started.elapsed();
    save(&options, &corpus, tally.slowest.0, "slowest");
    save(&options, &corpus, tally.peak.1, "peak");
    let summary = serde_json::json!({
        "seed": options.seed,
        "inputs": options.iterations,
        "read": tally.read,
        "refused_in_chinese": tally.refused,
        "panics": tally.panics,
        "children_lost": tally.lost,
        "refused_not_in_chinese": tally.english,
        "slowest_input": tally.slowest.0,
        "slowest_ms": tally.slowest.1 as f64 / 1000.0,
        "peak_memory_mb": tally.peak.0 / 1000,
        "peak_memory_is": "the most one read added to its process (VmHWM over VmRSS before it)",
        "peak_memory_input": tally.peak.1,
        "seconds": elapsed.as_secs_f64(),
        "inputs_per_second": options.iterations as f64 / elapsed.as_secs_f64().max(1e-9),
    });
    println!("{summary}");
    let failed = !tally.panics.is_empty()
        || !tally.english.is_empty()
        || tally.slowest.1 > Duration::from_secs(2).as_micros() as u64;
    std::process::exit(i32::from(failed));
}
