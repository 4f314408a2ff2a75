//! `granary bench all`: every benchmark with its peers in one run. The `cargo bench` targets run
//! as subprocesses from the workspace root, each leaving `<target dir>/bench/<name>.json` (its
//! figures) and `<name>.md` (its section); the API is measured in-process; then docs/PERFORMANCE.md
//! is written by `report::render`.

use super::report::{self, ALL, Bench, Document, Machine, Outcome, Run};
use super::{ApiArgs, measure_api};
use clap::Args;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[derive(Args, Clone)]
pub struct AllArgs {
    /// A short run (smaller sizes, shorter measurements): checks that everything runs; its figures
    /// are not the ones to publish.
    #[arg(long)]
    quick: bool,
    /// Only these benchmarks (comma-separated); the others are marked as not run.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Bench>,
    /// Where to write the report (default: docs/PERFORMANCE.md of the workspace).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: &AllArgs) -> Result<ExitCode, String> {
    let root = workspace_root()?;
    let cargo = cargo()?;
    let reports = target_dir(&cargo, &root)?.join("bench");
    std::fs::create_dir_all(&reports).map_err(|e| format!("cannot create {}: {e}", reports.display()))?;
    let out = a.out.clone().unwrap_or_else(|| root.join("docs/PERFORMANCE.md"));
    let load_start = load_average();
    let commit = commit(&root);
    let started = Instant::now();
    let mut runs = Vec::new();
    for bench in ALL {
        if !a.only.is_empty() && !a.only.contains(&bench) {
            runs.push(Run { bench, outcome: Outcome::NotRun, seconds: 0.0 });
            continue;
        }
        eprintln!("\n=== granary bench all: {} ({}) ===", bench.name(), bench.command());
        let t = Instant::now();
        let outcome = match bench.cargo() {
            Some((package, target)) => cargo_bench(&cargo, &root, &reports, bench, package, target, a.quick),
            None => api(a.quick),
        };
        if let Outcome::Failed(why) = &outcome {
            eprintln!("{}: not measured: {why}", bench.name());
        }
        runs.push(Run { bench, outcome, seconds: t.elapsed().as_secs_f64() });
    }
    let machine = Machine {
        cpu: cpu_model(),
        logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory: memory(),
        kernel: kernel(),
        rustc: output_line(Command::new("rustc").arg("--version").current_dir(&root)).unwrap_or_else(|| "?".into()),
        date: utc_date(),
        commit,
        load_start,
        load_end: load_average(),
    };
    let doc = Document { machine, quick: a.quick, runs };
    let text = report::render(&doc);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&out, &text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("\n| measure | figure | goal | verdict |\n|---|---|---|---|");
    for r in report::summary(&doc.runs) {
        println!("| {} | {} | {} | {} |", r.measure, r.figure, r.goal, r.verdict);
    }
    let failed: Vec<&str> =
        doc.runs.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).map(|r| r.bench.name()).collect();
    println!(
        "\n{} written in {:.0} s{}",
        out.display(),
        started.elapsed().as_secs_f64(),
        if a.quick { " (quick run)" } else { "" }
    );
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("not measured: {} (their sections say why)", failed.join(", "));
        Ok(ExitCode::from(1))
    }
}

/// The source checkout the benchmarks are built from: the one this binary was built in, else the
/// nearest folder above the current one whose Cargo.toml is Granary's workspace.
fn workspace_root() -> Result<PathBuf, String> {
    let is_root = |dir: &Path| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|t| t.contains("[workspace]") && t.contains("crates/engine"))
    };
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if is_root(&built_in) {
        return Ok(built_in.canonicalize().unwrap_or(built_in));
    }
    let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    cwd.ancestors().find(|d| is_root(d)).map(Path::to_path_buf).ok_or_else(|| {
        "granary bench all runs `cargo bench` in Granary's source checkout, and none was found (not where \
         this binary was built, nor above the current folder): run it from inside the checkout"
            .to_string()
    })
}

/// Cargo: `$CARGO` (set under `cargo run`), else `cargo` on the PATH; it must answer.
fn cargo() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    match Command::new(&cargo).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(cargo),
        Ok(o) => Err(format!("`{} --version` failed: {}", cargo.display(), String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => Err(format!(
            "cannot run cargo ({}: {e}): granary bench all builds and runs the benchmarks with it; \
             install Rust (rustup)",
            cargo.display()
        )),
    }
}

/// `$CARGO_TARGET_DIR`, else the target folder `cargo metadata` names.
fn target_dir(cargo: &Path, root: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let o = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !o.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&o.stderr).trim()));
    }
    let v: Value = serde_json::from_slice(&o.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    v["target_directory"].as_str().map(PathBuf::from).ok_or_else(|| "cargo metadata names no target_directory".into())
}

/// One `cargo bench` target; its report files are removed first, so only this run's can be read.
fn cargo_bench(
    cargo: &Path,
    root: &Path,
    reports: &Path,
    bench: Bench,
    package: &str,
    target: &str,
    quick: bool,
) -> Outcome {
    let json_path = reports.join(format!("{}.json", bench.name()));
    let md_path = reports.join(format!("{}.md", bench.name()));
    let _ = std::fs::remove_file(&json_path);
    let _ = std::fs::remove_file(&md_path);
    let mut cmd = Command::new(cargo);
    cmd.args(["bench", "-p", package, "--bench", target]).current_dir(root).env("GRANARY_BENCH_OUT", reports);
    // Neither a leftover setting of the caller's nor a kept-journal replay changes what is measured.
    cmd.env_remove("GRANARY_BENCH_QUICK").env_remove("GRANARY_BENCH_REPLAY_ONLY");
    if quick {
        cmd.env("GRANARY_BENCH_QUICK", "1");
        if bench == Bench::Engine {
            cmd.args(["--", "--warm-up-time", "1", "--measurement-time", "2"]);
        }
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => return Outcome::Failed(format!("`{}` ended with {s}.", bench.command())),
        Err(e) => return Outcome::Failed(format!("cannot start `{}`: {e}.", bench.command())),
    }
    let figures: Value = match std::fs::read(&json_path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return Outcome::Failed(format!("{} is not valid JSON: {e}.", json_path.display())),
        },
        Err(e) => return Outcome::Failed(format!("it wrote no {} ({e}).", json_path.display())),
    };
    if figures["bench"].as_str() != Some(bench.name()) || figures["quick"].as_bool() != Some(quick) {
        return Outcome::Failed(format!("{} is not this run's (bench or quick flag differ).", json_path.display()));
    }
    let markdown =
        std::fs::read_to_string(&md_path).unwrap_or_else(|e| format!("({} unreadable: {e})", md_path.display()));
    Outcome::Measured { figures, markdown }
}

/// The API under load, in-process, with `granary bench api`'s defaults (3 s instead of 10 when quick).
fn api(quick: bool) -> Outcome {
    let args = ApiArgs { seconds: if quick { 3 } else { 10 }, ..ApiArgs::default() };
    let m = match measure_api(&args) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e),
    };
    let r = &m.report;
    let mut figures = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
    if let (Some(o), Some(b)) = (figures.as_object_mut(), m.blocks) {
        o.insert("blocks".into(), json!(b));
    }
    let mut md = String::from("# API requests per second and latency\n\n");
    let _ = writeln!(
        md,
        "`GET {}` at {} keep-alive connections on loopback for {:.1} s (after 1 s of warm-up), against a fresh \
         in-process server whose demo market keeps running ({} blocks in all at the end).\n",
        r.path,
        r.connections,
        r.seconds,
        m.blocks.map_or_else(|| "?".to_string(), |b| b.to_string())
    );
    md.push_str("| requests | errors | req/s | p50 | p90 | p99 | max | mean body |\n");
    md.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} B |",
        r.requests,
        r.errors,
        report::int(r.requests_per_s),
        r.p50_ms,
        r.p90_ms,
        r.p99_ms,
        r.max_ms,
        report::int(r.mean_body_bytes)
    );
    Outcome::Measured {
        figures: json!({ "bench": "api", "quick": quick, "figures": figures, "notes": {} }),
        markdown: md,
    }
}

fn output_line(cmd: &mut Command) -> Option<String> {
    let o = cmd.output().ok().filter(|o| o.status.success())?;
    let line = String::from_utf8_lossy(&o.stdout).lines().next()?.trim().to_string();
    (!line.is_empty()).then_some(line)
}

/// The commit the run measures, and whether the tree differed from it.
fn commit(root: &Path) -> String {
    let Some(head) = output_line(Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(root))
    else {
        return "unknown (not a git checkout)".into();
    };
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(root)
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    if dirty { format!("{head} with uncommitted changes") } else { head }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn memory() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let kb: f64 = s.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kb / (1024.0 * 1024.0)))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `Linux 6.1.0-…` from /proc/sys/kernel; the target OS's name elsewhere.
fn kernel() -> String {
    let read = |f: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{f}")).map(|s| s.trim().to_string());
    match (read("ostype"), read("osrelease")) {
        (Ok(os), Ok(release)) => format!("{os} {release}"),
        _ => std::env::consts::OS.to_string(),
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Today's date and time in UTC, `YYYY-MM-DD HH:MM UTC`.
fn utc_date() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = granary_wallet::dir::civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs % 86_400 / 3600, secs % 3600 / 60)
}
