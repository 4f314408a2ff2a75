//! `granary`: the command line of the platform.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "granary", version, about = "Granary: a DeFi mining platform — exact engine, hub, wallet and lab")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scenario files: replayable what-ifs against a fresh engine (docs/scenarios.md).
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Run FILE.json and print one JSON line per step.
    Run {
        /// The scenario file.
        file: std::path::PathBuf,
        /// Exit non-zero if any step failed.
        #[arg(long)]
        strict: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Scenario { command: ScenarioCommand::Run { file, strict } } => scenario_run(&file, strict),
    }
}

fn scenario_run(file: &std::path::Path, strict: bool) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let lines = match granary_scenario::run_text(&text) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for line in &lines {
        if line.get("ok") == Some(&serde_json::Value::Bool(false)) {
            failed += 1;
        }
        if writeln!(out, "{line}").is_err() {
            return ExitCode::from(1);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    if strict && failed > 0 {
        eprintln!("{failed} step(s) failed");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
