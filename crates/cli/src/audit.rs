//! `keyconsole audit …`: the keystore's audit trail. `list` shows events newest first, `verify`
//! checks the chain (exit status 1 when it is broken, saying where), `export` writes the events
//! as JSON Lines or CSV, `prune` removes the oldest segments (what it would remove, until
//! `--yes`).

use clap::{Args, Subcommand};

use super::Context;
use super::output::{OutputFile, print_table, terminal_safe};
use keyconsole_kms::audit::{
    AuditEvent, AuditFilter, AuditQuery, parse_time_bound, to_csv, to_jsonl,
};
use keyconsole_kms::{ErrorCode, KeystoreAdmin, Kms, KmsError, Result};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The events, newest first (the last 100 unless --limit)
    List(ListArgs),
    /// Check the whole chain; exits 1 and says where when it is broken
    Verify(VerifyArgs),
    /// Write the events as JSON Lines or CSV
    Export(ExportArgs),
    /// Remove the oldest segments whose events are all older than --before (export them first);
    /// says what would go unless --yes
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Events older than this go (whole segments of 64 MiB; the one being written stays): a
    /// date, "2026-12-04 06:30:00" (UTC), Unix seconds, or an age (90d)
    #[arg(long)]
    before: String,
    /// Remove them (without it, only what would be removed is shown)
    #[arg(long)]
    yes: bool,
    /// The result as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only this user's events (`owner`, `maintenance`, or a user's name)
    #[arg(long)]
    user: Option<String>,
    /// Only actions whose name contains this (`Decrypt`, `Secret`)
    #[arg(long)]
    action: Option<String>,
    /// Only events about this key (KeyId or alias) or secret (or part of its name)
    #[arg(long)]
    resource: Option<String>,
    /// From this time: Unix seconds, 2026-12-04, "2026-12-04 06:30:00" (UTC), or an age (30m, 12h, 7d)
    #[arg(long)]
    since: Option<String>,
    /// Until this time (same forms)
    #[arg(long)]
    until: Option<String>,
    /// Only failed operations
    #[arg(long, conflicts_with = "succeeded")]
    failed: bool,
    /// Only successful operations
    #[arg(long)]
    succeeded: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// How many events at most (0: all)
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// One JSON object per line
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The report as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    filter: FilterArgs,
    #[arg(long, value_parser = ["jsonl", "csv"], default_value = "jsonl")]
    format: String,
    #[command(flatten)]
    output: OutputFile,
}

fn bad_time(text: &str) -> KmsError {
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        keyconsole_base::text!("errors.audit_time_not_understood", time = text),
    )
}

impl FilterArgs {
    fn filter(&self, now: i64) -> Result<AuditFilter> {
        let time = |text: &Option<String>| -> Result<Option<i64>> {
            text.as_deref()
                .map(|t| parse_time_bound(t, now).ok_or_else(|| bad_time(t)))
                .transpose()
        };
        Ok(AuditFilter {
            since: time(&self.since)?,
            until: time(&self.until)?,
            user: self.user.clone(),
            action: self.action.clone(),
            resource: self.resource.clone(),
            succeeded: match (self.failed, self.succeeded) {
                (true, _) => Some(false),
                (_, true) => Some(true),
                _ => None,
            },
            ..AuditFilter::default()
        })
    }
}

fn row(event: &AuditEvent) -> Vec<String> {
    let who = if event.source.is_empty() {
        event.user.clone()
    } else {
        format!("{} @{}", event.user, event.source)
    };
    let face = if event.dialect.is_empty() {
        event.face.clone()
    } else {
        format!("{}/{}", event.face, event.dialect)
    };
    vec![
        event.seq.to_string(),
        keyconsole_base::util::time::format_api_time(event.time),
        terminal_safe(&who).into_owned(),
        face,
        event.action.clone(),
        terminal_safe(&event.resource()).into_owned(),
        event.outcome.clone(),
    ]
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The events `filter` matches, newest first, here or on the server `--endpoint` names (through
/// CloudAudit's LookUpEvents).
fn look_up(context: &Context, filter: AuditFilter, limit: usize) -> Result<Vec<AuditEvent>> {
    let service = context.service()?;
    let query = AuditQuery {
        filter,
        before: None,
        limit,
    };
    Ok(service.look_up_events(&context.caller(), &query)?.events)
}

/// Runs an audit command; `Ok(false)` when `verify` found the chain broken.
pub fn run(context: &Context, command: AuditCommand) -> Result<bool> {
    match command {
        AuditCommand::List(args) => {
            let events = look_up(context, args.filter.filter(now())?, args.limit)?;
            if args.json {
                super::output::write_stdout(to_jsonl(&events).as_bytes())?;
            } else {
                let rows: Vec<Vec<String>> = events.iter().map(row).collect();
                print_table(
                    &[
                        "SEQ",
                        "TIME (UTC)",
                        "USER",
                        "FACE",
                        "ACTION",
                        "RESOURCE",
                        "OUTCOME",
                    ],
                    &rows,
                );
            }
            Ok(true)
        }
        AuditCommand::Verify(args) => {
            // The chain's keys are in the keystore: verifying is for who holds its password.
            context.local_only("audit verify")?;
            let kms: Kms = context.open()?;
            let report = kms.verify_audit()?;
            let text = if args.json {
                serde_json::to_string(&report).unwrap_or_default() + "\n"
            } else {
                let pruned = report.pruned.as_ref().map_or(String::new(), |anchor| {
                    format!(
                        " Events up to {} (the last at {}) were pruned at {}; the check begins there.",
                        anchor.seq,
                        keyconsole_base::util::time::format_api_time(anchor.time),
                        keyconsole_base::util::time::format_api_time(anchor.pruned_at)
                    )
                });
                match &report.broken {
                    None => format!(
                        "The audit trail is intact: {} events in {} segment(s), chained to the head the keystore saved.{pruned}\n",
                        report.events, report.segments
                    ),
                    Some(broken) => format!(
                        "The audit trail is BROKEN at {broken}.\n{} events before it are intact.\n",
                        report.events
                    ),
                }
            };
            super::output::write_stdout(text.as_bytes())?;
            Ok(report.is_intact())
        }
        AuditCommand::Prune(args) => {
            // Like verify: the chain is checked first, with the keystore's keys.
            context.local_only("audit prune")?;
            let before =
                parse_time_bound(&args.before, now()).ok_or_else(|| bad_time(&args.before))?;
            let kms: Kms = context.open()?;
            let pruned = kms.prune_audit_trail(&context.caller(), before, args.yes)?;
            let text = if args.json {
                serde_json::to_string(&pruned).unwrap_or_default() + "\n"
            } else {
                match (&pruned.anchor, args.yes) {
                    (None, _) => format!(
                        "Nothing to prune: no closed segment holds only events before {}.\n",
                        keyconsole_base::util::time::format_api_time(before)
                    ),
                    (Some(anchor), done) => format!(
                        "{} {} segment(s): events up to {} (the last at {}), {} events, {:.1} MiB.\n{}",
                        if done { "Removed" } else { "Would remove" },
                        pruned.segments.len(),
                        anchor.seq,
                        keyconsole_base::util::time::format_api_time(anchor.time),
                        pruned.events,
                        pruned.bytes as f64 / (1024.0 * 1024.0),
                        if done {
                            "The keystore records where the trail now begins; `keyconsole audit verify` checks the rest.\n".to_owned()
                        } else {
                            format!(
                                "Export them first (`keyconsole audit export --until {}`), then run again with --yes.\n",
                                anchor.time
                            )
                        }
                    ),
                }
            };
            super::output::write_stdout(text.as_bytes())?;
            Ok(true)
        }
        AuditCommand::Export(args) => {
            let keystore = context.endpoint.is_none().then(|| context.keystore.clone());
            args.output.check(keystore.as_deref())?;
            let mut events = look_up(context, args.filter.filter(now())?, 0)?;
            // Oldest first, as the trail itself.
            events.reverse();
            let bytes = match args.format.as_str() {
                "csv" => to_csv(&events),
                _ => to_jsonl(&events),
            };
            args.output.write(keystore.as_deref(), bytes.as_bytes())?;
            Ok(true)
        }
    }
}
