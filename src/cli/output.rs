//! What commands print: their results on standard output, their error lines on standard
//! error, neither of them a panic when the reader has gone away.

use std::io::Write;

/// `println!` for what a command prints: a reader that went away (`pufa summary | head -3`)
/// is not the command's failure, so the rest of its output is dropped instead of the
/// program stopping with a panic (and, after an import, an exit code that hides the
/// import's own). Any other failure to write (a full disk) stops the command with exit 1.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::say_line(format_args!($($arg)*))
    };
}

/// `eprintln!` for a command's error line: when standard error is a closed pipe there is
/// nowhere left to say it, and the command's exit code still tells the failure.
macro_rules! complain {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// See [`say!`].
pub(crate) fn say_line(line: std::fmt::Arguments<'_>) {
    if let Err(e) = writeln!(std::io::stdout(), "{line}") {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            complain!("错误：无法写出结果：{e}");
            std::process::exit(1);
        }
    }
}
