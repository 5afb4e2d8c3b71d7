use std::process::ExitCode;

use clap::Parser;
use keyconsole::cli::Cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    keyconsole::util::process::refuse_writes_past_file_size_limit();
    // Every face handles plaintexts and keys: no core dump may hold them.
    for outcome in [
        keyconsole::util::process::forbid_core_dumps(),
        keyconsole::util::process::raise_fd_limit().map(drop),
    ] {
        if let Err(why) = outcome {
            eprintln!("keyconsole: warning: {why}");
        }
    }
    if cli.command.is_some() {
        return keyconsole::cli::run(cli);
    }
    match keyconsole::ui::run(cli.keystore) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the console window could not be opened: {e}");
            eprintln!("(the command-line tools work without a display: keyconsole --help)");
            ExitCode::from(1)
        }
    }
}
