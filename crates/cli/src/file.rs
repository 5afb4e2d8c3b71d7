//! `file encrypt` and `file decrypt`: envelope encryption of large files.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use super::Context;
use keyconsole_kms::Result;
use keyconsole_kms::envelope::{FileDecryptor, FileEncryptor};

#[derive(Debug, Subcommand)]
pub enum FileCommand {
    /// Encrypt a file of any size with a fresh data key under KEY
    Encrypt {
        /// KeyId or alias of the CMK that wraps the data key
        #[arg(long)]
        key: String,
        input: PathBuf,
        output: PathBuf,
        /// Replace OUTPUT if it exists
        #[arg(long)]
        force: bool,
    },
    /// Decrypt a file made by `file encrypt`; the key is found from the file
    Decrypt {
        input: PathBuf,
        output: PathBuf,
        /// Replace OUTPUT if it exists
        #[arg(long)]
        force: bool,
    },
}

/// A progress bar on stderr when it is a terminal; nothing at all otherwise.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

pub fn run(context: &Context, command: FileCommand) -> Result<()> {
    // The data key comes from the service (a local keystore or a server); the file never leaves
    // this machine.
    let service = context.service()?;
    let caller = context.caller();
    let bar = progress_bar();
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
        true
    };
    let report = match command {
        FileCommand::Encrypt {
            key,
            input,
            output,
            force,
        } => FileEncryptor::prepare(&*service, &caller, &key)?.encrypt(
            &input,
            &output,
            force,
            &mut progress,
        ),
        FileCommand::Decrypt {
            input,
            output,
            force,
        } => FileDecryptor::prepare(&*service, &caller, &input)?.decrypt(
            &output,
            force,
            &mut progress,
        ),
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report.map(|_| ())
}
