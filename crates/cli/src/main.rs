//! `granary`: the command line of the platform.

mod bench;
mod client;
mod journal;
mod sim_faults;
mod simulate;
mod up;
mod wallet;

use clap::{Args, Parser, Subcommand};
use granary_store::Location;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "granary",
    version,
    about = "Granary: a DeFi mining platform — exact engine, durable store, hub, wallet and lab"
)]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: Command,
}

/// Where the journal lives: SQLite in a data folder (the default) or PostgreSQL.
#[derive(Args, Clone)]
struct StoreArgs {
    /// Data folder of the embedded SQLite store.
    #[arg(long, global = true, default_value = "./granary-data", env = "GRANARY_DATA_DIR")]
    data_dir: PathBuf,
    /// A postgres:// URL: use PostgreSQL (scale-out) instead of the data folder.
    #[arg(long, global = true, env = "GRANARY_DB")]
    db: Option<String>,
    /// Take a snapshot of the state every this many closed blocks…
    #[arg(long, global = true, default_value_t = 1000)]
    snapshot_every_blocks: u64,
    /// …or every this many seconds, whichever comes first.
    #[arg(long, global = true, default_value_t = 300)]
    snapshot_every_secs: u64,
}

impl StoreArgs {
    fn policy(&self) -> granary_store::SnapshotPolicy {
        granary_store::SnapshotPolicy {
            every_blocks: self.snapshot_every_blocks.max(1),
            every: std::time::Duration::from_secs(self.snapshot_every_secs),
            keep: 3,
        }
    }

    fn location(&self) -> Location {
        match &self.db {
            Some(url) => Location::Postgres(url.clone()),
            None => Location::Sqlite(self.data_dir.clone()),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Scenario files: replayable what-ifs (docs/scenarios.md).
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// The journal of accepted transactions (docs/store.md).
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Keys in Ethereum keystore v3 files under <data dir>/wallet.
    Wallet {
        #[command(subcommand)]
        command: wallet::WalletCommand,
    },
    /// Run the platform: store, hub, live demo market, API and dashboard on 127.0.0.1.
    Up(up::UpArgs),
    /// Backtest or Monte Carlo of a mining strategy on the exact pool math (docs/lab.md).
    Simulate(Box<simulate::SimulateArgs>),
    /// Deterministic fault simulation of the engine and store over many seeds (docs/SECURITY.md).
    SimFaults(sim_faults::SimFaultsArgs),
    /// Benchmarks, reported (never pass/fail): all with their peers → docs/PERFORMANCE.md (the default), or the API.
    Bench(bench::BenchArgs),
    /// Opportunities of a running `up`, ranked (filters and sorts of the hub).
    Pools {
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        filter: client::PoolsArgs,
    },
    /// Balances and positions across chains of a wallet address (default: the wallet's key).
    Positions {
        address: Option<String>,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Diversification advice: an allocation of your holdings across the opportunities (docs/advise.md).
    Advise {
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        args: client::AdviseArgs,
    },
    /// Rug and exploit alerts.
    Alerts {
        #[arg(long)]
        chain: Option<String>,
        #[command(flatten)]
        conn: client::Conn,
    },
    /// Stake AMOUNT (whole tokens) in a staking pool for a term.
    Stake {
        staking_pool: String,
        amount: String,
        /// Lock term in days (0 = flexible, if the pool offers it).
        #[arg(long, default_value_t = 0)]
        term: u32,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Close a staking position (the preview shows any early-exit penalty).
    Unstake {
        position: u64,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Harvest a farm pool's rewards, or claim a staking position's (--position).
    Harvest {
        farm_pool: Option<String>,
        #[arg(long, conflicts_with = "farm_pool")]
        position: Option<u64>,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Swap AMOUNT (whole tokens) of TOKEN_IN in POOL.
    Swap {
        pool: String,
        token_in: String,
        amount: String,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Add liquidity: AMOUNT0 of token 0 and AMOUNT1 of token 1 (whole tokens).
    Add {
        pool: String,
        amount0: String,
        amount1: String,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Remove LIQUIDITY LP tokens (whole tokens) from POOL.
    Remove {
        pool: String,
        liquidity: String,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Deposit AMOUNT (whole tokens) of the stake token in a farm pool.
    Deposit {
        farm_pool: String,
        amount: String,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
    /// Withdraw AMOUNT (whole tokens) from a farm pool.
    Withdraw {
        farm_pool: String,
        amount: String,
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        sign: client::SignArgs,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Run FILE.json and print one JSON line per step.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Exit non-zero if any step failed.
        #[arg(long)]
        strict: bool,
        /// Journal every step in the store (--data-dir / --db) instead of a throw-away engine.
        #[arg(long)]
        persist: bool,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Replay the whole journal from genesis and check every block seal and snapshot.
    Verify,
    /// Print the journal as JSON Lines.
    Export {
        /// First entry to print.
        #[arg(long, default_value_t = 1)]
        from: u64,
    },
    /// Recover as a reader (nothing is written) and print what start-up would find.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let location = cli.store.location();
    let policy = cli.store.policy();
    let r = match cli.command {
        Command::Scenario { command: ScenarioCommand::Run { file, strict, persist } } => {
            scenario_run(&file, strict, persist.then_some((&location, policy)))
        }
        Command::Journal { command } => match command {
            JournalCommand::Verify => journal::verify(&location),
            JournalCommand::Export { from } => journal::export(&location, from),
            JournalCommand::Status => journal::status(&location),
        },
        Command::Wallet { command } => wallet::run(&cli.store.data_dir, command),
        Command::Up(args) => up::run(&cli.store.data_dir, location, policy, &args),
        Command::Bench(args) => bench::run(args),
        Command::SimFaults(args) => sim_faults::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        cmd => return client_command(&cli.store.data_dir, cmd),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn client_command(data_dir: &std::path::Path, cmd: Command) -> ExitCode {
    use client::Ask;
    let r = match &cmd {
        Command::Pools { conn, filter } => client::pools(conn, filter),
        Command::Positions { address, conn } => client::positions(conn, data_dir, address.as_deref()),
        Command::Alerts { chain, conn } => client::alerts(conn, chain.as_deref()),
        Command::Advise { conn, args } => client::advise(conn, args),
        Command::Stake { staking_pool, amount, term, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Stake { pool: staking_pool, amount, term_days: *term })
        }
        Command::Unstake { position, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Unstake { position: *position })
        }
        Command::Harvest { farm_pool, position, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Harvest { farm_pool: farm_pool.as_deref(), position: *position })
        }
        Command::Swap { pool, token_in, amount, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Swap { pool, token_in, amount })
        }
        Command::Add { pool, amount0, amount1, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Add { pool, amount0, amount1 })
        }
        Command::Remove { pool, liquidity, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Remove { pool, liquidity })
        }
        Command::Deposit { farm_pool, amount, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Deposit { farm_pool, amount })
        }
        Command::Withdraw { farm_pool, amount, conn, sign } => {
            client::act(conn, data_dir, sign, Ask::Withdraw { farm_pool, amount })
        }
        _ => Err(client::Failure::Other("unreachable command".into())),
    };
    client::exit(r)
}

fn scenario_run(
    file: &std::path::Path,
    strict: bool,
    persist: Option<(&Location, granary_store::SnapshotPolicy)>,
) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let lines = match persist {
        None => granary_scenario::run_text(&text),
        Some((location, policy)) => journal::run_persisted(&text, location, policy),
    }
    .map_err(|e| format!("{}: {e}", file.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let failed = lines.iter().filter(|l| l.get("ok") == Some(&serde_json::Value::Bool(false))).count();
    for line in &lines {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    if strict && failed > 0 {
        eprintln!("{failed} step(s) failed");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
