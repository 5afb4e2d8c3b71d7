use std::process::ExitCode;

use clap::Parser;
use keyconsole::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
