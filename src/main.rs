use std::process::ExitCode;

use clap::Parser;
use keyconsole::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.command.is_none() {
        eprintln!(
            "The desktop console is not built yet; use a subcommand (keyconsole --help lists them)."
        );
        return ExitCode::from(2);
    }
    keyconsole::cli::run(cli)
}
