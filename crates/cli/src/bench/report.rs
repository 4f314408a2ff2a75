//! docs/PERFORMANCE.md from the figures of one `granary bench all` run: the machine, one summary
//! table of every ratio with its goal and whether it is met (and by how much it is missed), each
//! benchmark's own section, and how to reproduce. Pure: the figures come in, the text goes out.

use serde_json::Value;
use std::fmt::Write as _;

/// The benchmarks `granary bench all` runs, in this order.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Bench {
    Engine,
    Ratios,
    Store,
    Rank,
    Montecarlo,
    Api,
}

pub const ALL: [Bench; 6] = [Bench::Engine, Bench::Ratios, Bench::Store, Bench::Rank, Bench::Montecarlo, Bench::Api];

impl Bench {
    /// The name of its report files (`<name>.json`, `<name>.md`).
    pub fn name(self) -> &'static str {
        match self {
            Bench::Engine => "engine",
            Bench::Ratios => "ratios",
            Bench::Store => "store",
            Bench::Rank => "rank",
            Bench::Montecarlo => "montecarlo",
            Bench::Api => "api",
        }
    }

    /// The package and bench target of `cargo bench`; `None` for the API, measured in-process.
    pub fn cargo(self) -> Option<(&'static str, &'static str)> {
        match self {
            Bench::Engine => Some(("granary-engine", "engine")),
            Bench::Ratios => Some(("granary-conformance", "ratios")),
            Bench::Store => Some(("granary-store", "store")),
            Bench::Rank => Some(("granary-hub", "rank")),
            Bench::Montecarlo => Some(("granary-lab", "montecarlo")),
            Bench::Api => None,
        }
    }

    pub fn command(self) -> String {
        match self.cargo() {
            Some((package, bench)) => format!("cargo bench -p {package} --bench {bench}"),
            None => "cargo run --release -p granary-cli -- bench api".to_string(),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Bench::Engine => "Engine operations",
            Bench::Ratios => "Swaps: engine, bare arithmetic, uniswappy, Uniswap V2 bytecode on revm",
            Bench::Store => "Store: verification bound, durable ingest, replay, recovery",
            Bench::Rank => "Ranking 100 000 opportunities",
            Bench::Montecarlo => "Monte Carlo",
            Bench::Api => "API under load",
        }
    }
}

/// What became of one benchmark in the run.
pub enum Outcome {
    /// Its figures (the `figures` and `notes` of its JSON) and its markdown section.
    Measured {
        figures: Value,
        markdown: String,
    },
    Failed(String),
    NotRun,
}

pub struct Run {
    pub bench: Bench,
    pub outcome: Outcome,
    /// Wall time of the step, a build included.
    pub seconds: f64,
}

pub struct Machine {
    pub cpu: String,
    pub logical_cpus: usize,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub date: String,
    pub commit: String,
    pub load_start: String,
    pub load_end: String,
}

pub struct Document {
    pub machine: Machine,
    pub quick: bool,
    pub runs: Vec<Run>,
}

/// A goal on a figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
    None,
}

/// Whether `value` meets `goal`, and by how much it misses.
pub fn verdict(value: Option<f64>, goal: Goal) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return "not measured".to_string();
    };
    match goal {
        Goal::None => "no goal set".to_string(),
        Goal::AtLeast(g) if v >= g => "met".to_string(),
        Goal::AtMost(g) if v <= g => "met".to_string(),
        Goal::AtLeast(g) if v <= 0.0 => format!("**missed** (goal {})", plain(g)),
        Goal::AtLeast(g) if g / v >= 2.0 => format!("**missed**: {} short of the goal", times(g / v)),
        Goal::AtLeast(g) => format!("**missed**: {:.0} % short of the goal", (1.0 - v / g) * 100.0),
        Goal::AtMost(g) if v / g >= 2.0 => format!("**missed**: {} over the goal", times(v / g)),
        Goal::AtMost(g) => format!("**missed**: {:.0} % over the goal", (v / g - 1.0) * 100.0),
    }
}

/// 1234567.8 → "1 234 568".
pub fn int(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A ratio: three significant figures at most ("0.14×", "12.3×", "187×").
pub fn times(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}×")
    } else if x < 100.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.0}×")
    }
}

/// A rate: "2.13 M" from a million on, else the integer.
fn rate(x: f64) -> String {
    if x >= 1e6 { format!("{:.2} M", x / 1e6) } else { int(x) }
}

fn plain(x: f64) -> String {
    if x >= 1000.0 { int(x) } else { format!("{x}") }
}

fn goal_text(goal: Goal, unit: &str) -> String {
    match goal {
        Goal::AtLeast(g) => format!("≥ {}{unit}", plain(g)),
        Goal::AtMost(g) => format!("≤ {}{unit}", plain(g)),
        Goal::None => "—".to_string(),
    }
}

/// One line of the summary.
pub struct Row {
    pub measure: String,
    pub peer: String,
    pub figure: String,
    pub goal: String,
    pub verdict: String,
}

struct Figures<'a>(&'a [Run]);

impl Figures<'_> {
    fn measured(&self, b: Bench) -> Option<&Value> {
        self.0.iter().find(|r| r.bench == b).and_then(|r| match &r.outcome {
            Outcome::Measured { figures, .. } => Some(figures),
            _ => None,
        })
    }
    fn get(&self, b: Bench, key: &str) -> Option<f64> {
        self.measured(b).and_then(|f| f["figures"][key].as_f64()).filter(|v| v.is_finite())
    }
    fn note(&self, b: Bench, key: &str) -> Option<&str> {
        self.measured(b).and_then(|f| f["notes"][key].as_str())
    }
}

/// "figure (detail)" when measured, "—" otherwise.
fn shown(value: Option<f64>, show: impl Fn(f64) -> String, detail: Option<String>) -> String {
    match (value, detail) {
        (Some(v), Some(d)) => format!("{} ({d})", show(v)),
        (Some(v), None) => show(v),
        (None, _) => "—".to_string(),
    }
}

/// (name, figure key) of the rates a ratio is shown with.
type Rates = &'static [(&'static str, &'static str)];

fn both(a: Option<f64>, b: Option<f64>) -> Option<(f64, f64)> {
    a.zip(b)
}

/// The summary table's rows: every ratio and rate SPEC §6 names, with the goal the benchmark checks.
pub fn summary(runs: &[Run]) -> Vec<Row> {
    use Bench::*;
    let f = Figures(runs);
    let mut rows = Vec::new();
    let mut row = |measure: &str, peer: &str, value: Option<f64>, figure: String, goal: Goal, unit: &str| {
        rows.push(Row {
            measure: measure.to_string(),
            peer: peer.to_string(),
            figure,
            goal: goal_text(goal, unit),
            verdict: verdict(value, goal),
        });
    };

    // Swaps, side by side on one sequence: the ratio, then the rates it comes from.
    let uniswappy = f.note(Ratios, "uniswappy").unwrap_or("uniswappy (Python)");
    let swaps: [(&str, &str, &str, Rates, Goal); 3] = [
        (
            "engine_time_over_bare",
            "swap: engine time / bare arithmetic time",
            "bare `get_amount_out` on U256",
            &[("engine", "engine_ops_per_s"), ("bare", "bare_ops_per_s")],
            Goal::AtMost(3.0),
        ),
        (
            "engine_over_uniswappy",
            "swaps/s: engine / uniswappy",
            uniswappy,
            &[("uniswappy", "uniswappy_ops_per_s")],
            Goal::AtLeast(50.0),
        ),
        (
            "engine_over_revm",
            "swaps/s: engine / Uniswap V2 bytecode on revm",
            "npm `@uniswap/v2-core` on revm",
            &[("revm", "revm_ops_per_s")],
            Goal::AtLeast(10.0),
        ),
    ];
    for (key, measure, peer, rates, goal) in swaps {
        let v = f.get(Ratios, key);
        let detail: Option<Vec<String>> =
            rates.iter().map(|(name, k)| f.get(Ratios, k).map(|r| format!("{name} {}/s", rate(r)))).collect();
        row(measure, peer, v, shown(v, times, detail.map(|d| d.join(", "))), goal, "×");
    }

    // In-memory engine operations (no peer of their own: the swap ratios above are the comparison).
    let parts: Vec<String> = [
        ("swap", "swaps"),
        ("farm_deposit_then_harvest", "deposit+harvest pairs"),
        ("stake_then_claim", "stake+claim pairs"),
        ("add_then_remove_liquidity", "add+remove pairs"),
    ]
    .iter()
    .filter_map(|(key, what)| f.get(Engine, &format!("{key}_per_s")).map(|v| format!("{} {what}/s", rate(v))))
    .collect();
    let v = f.get(Engine, "swap_per_s");
    let figure = if parts.is_empty() { "—".to_string() } else { parts.join("; ") };
    row("in-memory engine operations", "— (see the swap ratios)", v, figure, Goal::None, "");

    // Store.
    let verify = f.get(Store, "verify_n_per_s");
    let threads = f.get(Store, "threads").map_or(String::new(), |t| format!(", {t} threads"));
    for (key, name, min_rate) in [("sqlite", "SQLite", Some(20_000.0)), ("pg", "PostgreSQL", None)] {
        let ingest = f.get(Store, &format!("{key}_ingest_best_per_s"));
        let batch = f.get(Store, &format!("{key}_ingest_best_batch")).map_or(String::new(), |b| format!(", batch {b}"));
        let v = both(verify, ingest).map(|(v, i)| v / i);
        let detail = both(verify, ingest)
            .map(|(v, i)| format!("verification {}/s{threads}, ingest {}/s{batch}", rate(v), rate(i)));
        row(
            &format!("secp256k1 verification rate / durable ingest rate, {name}"),
            "secp256k1 verification (the physical bound)",
            v,
            shown(v, times, detail),
            Goal::AtMost(2.0),
            "×",
        );
        if let Some(min) = min_rate {
            row(
                &format!("durable signed-transaction ingest, {name} (best batch)"),
                "—",
                ingest,
                shown(ingest, |x| format!("{} tx/s", int(x)), None),
                Goal::AtLeast(min),
                " tx/s",
            );
        }
    }
    let txs = f.get(Store, "journal_txs").map_or(String::new(), |n| format!("{} tx journal, ", int(n)));
    for (key, name) in [("replay_sqlite_per_s", "SQLite"), ("replay_pg_per_s", "PostgreSQL")] {
        let v = f.get(Store, key);
        let detail = v.map(|_| format!("{txs}whole `Node::open`, no snapshot"));
        row(
            &format!("journal replay, {name}"),
            "—",
            v,
            shown(v, |x| format!("{} tx/s", int(x)), detail),
            Goal::AtLeast(1e6),
            " tx/s",
        );
    }

    // Ranking, Monte Carlo, API.
    let v = f.get(Rank, "pandas_over_granary_min");
    let peer = f.note(Rank, "pandas").unwrap_or("pandas").to_string();
    let detail = v.map(|_| "the least favourable of three sorts".to_string());
    row("ranking 100 000 opportunities: pandas time / granary time", &peer, v, shown(v, times, detail), Goal::None, "");
    let v = f.get(Montecarlo, "granary_over_numpy");
    let detail = both(f.get(Montecarlo, "granary_per_s"), f.get(Montecarlo, "numpy_per_s")).map(|(g, n)| {
        let t = f.get(Montecarlo, "threads").map_or(String::new(), |t| format!(" on {t} threads"));
        format!("granary {} path-steps/s{t}, numpy {}", rate(g), rate(n))
    });
    row(
        "Monte Carlo path-steps/s: granary / numpy",
        "numpy, vectorised across paths",
        v,
        shown(v, times, detail),
        Goal::AtLeast(5.0),
        "×",
    );
    let conn = f.get(Api, "connections").map_or(String::new(), |c| format!(" at {c} connections"));
    let errors = f.get(Api, "errors").map(|e| format!("{} errors", int(e)));
    let v = f.get(Api, "requests_per_s");
    row(
        &format!("API requests/s, GET /api/opportunities{conn}"),
        "—",
        v,
        shown(v, |x| format!("{} req/s", int(x)), errors),
        // The `granary up` goal on two cores while the demo world runs.
        Goal::AtLeast(5_000.0),
        " req/s",
    );
    let v = f.get(Api, "p99_ms");
    let p50 = f.get(Api, "p50_ms").map(|p| format!("p50 {p:.2} ms"));
    row("API p99 latency under that load", "—", v, shown(v, |x| format!("{x:.2} ms"), p50), Goal::AtMost(20.0), " ms");
    rows
}

/// A bench's own markdown with its headings moved down so that the highest is `###`, under its
/// section's `##` (outside code fences).
fn demote(markdown: &str) -> String {
    let level = |line: &str| line.chars().take_while(|&c| c == '#').count();
    let mut fenced = false;
    let headings: Vec<bool> = markdown
        .trim()
        .lines()
        .map(|line| {
            if line.starts_with("```") {
                fenced = !fenced;
            }
            !fenced && level(line) > 0
        })
        .collect();
    let top = markdown.trim().lines().zip(&headings).filter(|(_, h)| **h).map(|(l, _)| level(l)).min().unwrap_or(3);
    let mut out = String::new();
    for (line, heading) in markdown.trim().lines().zip(headings) {
        if heading {
            out.push_str(&"#".repeat((level(line) + 3).saturating_sub(top)));
            out.push_str(line.trim_start_matches('#'));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

pub fn render(doc: &Document) -> String {
    let m = &doc.machine;
    let mut s = String::from("# Performance\n\n");
    let _ = writeln!(
        s,
        "Written by `granary bench all` (`scripts/bench.sh`), which runs every benchmark with its peers in one \
         run on one machine. SPEC §6 names what is measured and against which peer; the goals are the ones each \
         benchmark checks (ranking and the API have no numeric goal yet). Absolute figures move between machines \
         and runs; the ratios are measured side by side.\n"
    );
    if doc.quick {
        s.push_str(
            "> **Quick run** (`--quick`): smaller sizes and shorter measurements, to check that everything runs. \
             These are not the figures to quote: the committed file comes from a full run (`scripts/bench.sh`).\n\n",
        );
    }
    s.push_str("## Machine\n\n| | |\n|---|---|\n");
    for (k, v) in [
        ("CPU", m.cpu.clone()),
        ("logical CPUs", m.logical_cpus.to_string()),
        ("memory", m.memory.clone()),
        ("kernel", m.kernel.clone()),
        ("rustc", m.rustc.clone()),
        ("date", m.date.clone()),
        ("commit", m.commit.clone()),
        ("load average (1, 5, 15 min)", format!("{} at the start, {} at the end", m.load_start, m.load_end)),
    ] {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    s.push_str("\n## Summary\n\n| measure | peer | figure | goal | verdict |\n|---|---|---|---|---|\n");
    for r in summary(&doc.runs) {
        let _ = writeln!(s, "| {} | {} | {} | {} | {} |", r.measure, r.peer, r.figure, r.goal, r.verdict);
    }
    let names = |pick: fn(&Outcome) -> bool| -> Vec<&str> {
        doc.runs.iter().filter(|r| pick(&r.outcome)).map(|r| r.bench.name()).collect()
    };
    let failed = names(|o| matches!(o, Outcome::Failed(_)));
    if !failed.is_empty() {
        let _ = writeln!(s, "\nNot measured in this run (see below): {}.", failed.join(", "));
    }
    let left_out = names(|o| matches!(o, Outcome::NotRun));
    if !left_out.is_empty() {
        let _ = writeln!(s, "\nA partial run: left out with `--only`: {}.", left_out.join(", "));
    }
    for r in &doc.runs {
        if matches!(r.outcome, Outcome::NotRun) {
            let _ = writeln!(s, "\n## {}\n\nNot run (left out with `--only`).", r.bench.title());
            continue;
        }
        let _ = writeln!(
            s,
            "\n## {}\n\n`{}` — {:.0} s of wall time in this run (any build included).\n",
            r.bench.title(),
            r.bench.command(),
            r.seconds
        );
        match &r.outcome {
            Outcome::Measured { markdown, .. } => s.push_str(&demote(markdown)),
            Outcome::Failed(why) => {
                let _ = writeln!(s, "Not measured: {why}");
            }
            Outcome::NotRun => {}
        }
    }
    s.push_str(REPRODUCE);
    s
}

const REPRODUCE: &str = "
## Reproduce

```sh
scripts/bench.sh            # installs the peers (scripts/oracles.sh), then: cargo run --release -p granary-cli -- bench all
scripts/bench.sh --quick    # the short run: smaller sizes, a check that everything runs (its figures are not published)
```

The peers come from their registries into `.oracles/` (git-ignored): npm `@uniswap/v2-core` (the pair
bytecode run on revm), PyPI `uniswappy`, `pandas` and `numpy` (`$GRANARY_PYTHON` picks another
interpreter). The store benchmark's PostgreSQL rows need a server at `GRANARY_BENCH_PG` (default
`postgres://postgres@127.0.0.1:5432/postgres`; without one they are skipped). Each benchmark also runs
alone with the command under its heading; its report lands in `<target dir>/bench/<name>.md` and
`<name>.json`. The run takes over the whole machine: run it on a quiet one.
";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn measured(bench: Bench, figures: Value) -> Run {
        let outcome = Outcome::Measured {
            figures: json!({ "figures": figures, "notes": {} }),
            markdown: "# Title\n\ntext\n".into(),
        };
        Run { bench, outcome, seconds: 1.0 }
    }

    fn machine() -> Machine {
        Machine {
            cpu: "Test CPU".into(),
            logical_cpus: 2,
            memory: "24.0 GiB".into(),
            kernel: "Linux 6.1".into(),
            rustc: "rustc 1.95.0".into(),
            date: "2026-11-25".into(),
            commit: "abc123".into(),
            load_start: "0.1 0.1 0.1".into(),
            load_end: "0.2 0.2 0.2".into(),
        }
    }

    fn row<'a>(rows: &'a [Row], measure: &str) -> &'a Row {
        rows.iter().find(|r| r.measure.starts_with(measure)).expect("the summary has this row")
    }

    #[test]
    fn verdicts_say_met_or_by_how_much_missed() {
        assert_eq!(verdict(Some(55.0), Goal::AtLeast(50.0)), "met");
        assert_eq!(verdict(Some(50.0), Goal::AtLeast(50.0)), "met");
        assert_eq!(verdict(Some(0.14), Goal::AtLeast(5.0)), "**missed**: 35.7× short of the goal");
        assert_eq!(verdict(Some(15_000.0), Goal::AtLeast(20_000.0)), "**missed**: 25 % short of the goal");
        assert_eq!(verdict(Some(2.5), Goal::AtMost(3.0)), "met");
        assert_eq!(verdict(Some(3.6), Goal::AtMost(3.0)), "**missed**: 20 % over the goal");
        assert_eq!(verdict(Some(9.0), Goal::AtMost(3.0)), "**missed**: 3.00× over the goal");
        assert_eq!(verdict(Some(0.0), Goal::AtLeast(5.0)), "**missed** (goal 5)");
        assert_eq!(verdict(None, Goal::AtLeast(5.0)), "not measured");
        assert_eq!(verdict(Some(f64::NAN), Goal::AtMost(2.0)), "not measured");
        assert_eq!(verdict(Some(1.0), Goal::None), "no goal set");
    }

    #[test]
    fn the_summary_states_each_ratio_its_goal_and_verdict() {
        let runs = vec![
            measured(
                Bench::Ratios,
                json!({ "engine_ops_per_s": 2.0e6, "bare_ops_per_s": 2.5e7,
                        "uniswappy_ops_per_s": 1.1e5, "revm_ops_per_s": 7.8e4,
                        "engine_time_over_bare": 12.5, "engine_over_uniswappy": 18.2, "engine_over_revm": 25.6 }),
            ),
            measured(
                Bench::Store,
                json!({ "threads": 2, "verify_n_per_s": 60000.0,
                        "sqlite_ingest_best_per_s": 40000.0, "sqlite_ingest_best_batch": 1024,
                        "journal_txs": 1e6, "replay_sqlite_per_s": 1.2e6, "replay_pg_per_s": null }),
            ),
            measured(
                Bench::Montecarlo,
                json!({ "granary_over_numpy": 0.14, "granary_per_s": 2.95e6, "numpy_per_s": 2.06e7 }),
            ),
            Run { bench: Bench::Rank, outcome: Outcome::Failed("exit status 101".into()), seconds: 3.0 },
        ];
        let rows = summary(&runs);

        let bare = row(&rows, "swap: engine time / bare");
        assert_eq!((bare.figure.as_str(), bare.goal.as_str()), ("12.5× (engine 2.00 M/s, bare 25.00 M/s)", "≤ 3×"));
        assert_eq!(bare.verdict, "**missed**: 4.17× over the goal");
        let py = row(&rows, "swaps/s: engine / uniswappy");
        assert_eq!((py.goal.as_str(), py.verdict.as_str()), ("≥ 50×", "**missed**: 2.75× short of the goal"));
        assert_eq!(row(&rows, "swaps/s: engine / Uniswap V2").verdict, "met");

        let sqlite = row(&rows, "secp256k1 verification rate / durable ingest rate, SQLite");
        assert_eq!(sqlite.figure, "1.50× (verification 60 000/s, 2 threads, ingest 40 000/s, batch 1024)");
        assert_eq!((sqlite.goal.as_str(), sqlite.verdict.as_str()), ("≤ 2×", "met"));
        assert_eq!(row(&rows, "durable signed-transaction ingest, SQLite").goal, "≥ 20 000 tx/s");
        assert_eq!(row(&rows, "secp256k1 verification rate / durable ingest rate, PostgreSQL").verdict, "not measured");
        assert_eq!(row(&rows, "journal replay, SQLite").verdict, "met");
        assert_eq!(row(&rows, "journal replay, PostgreSQL").figure, "—");

        let mc = row(&rows, "Monte Carlo");
        assert_eq!(mc.figure, "0.14× (granary 2.95 M path-steps/s, numpy 20.60 M)");
        assert_eq!((mc.goal.as_str(), mc.verdict.as_str()), ("≥ 5×", "**missed**: 35.7× short of the goal"));
        assert_eq!(row(&rows, "ranking").verdict, "not measured");
        assert_eq!(row(&rows, "API requests/s").verdict, "not measured");
    }

    #[test]
    fn the_document_has_the_machine_a_quick_warning_the_sections_and_failures() {
        let runs = vec![
            measured(Bench::Montecarlo, json!({ "granary_over_numpy": 0.14 })),
            Run { bench: Bench::Store, outcome: Outcome::Failed("`cargo bench` exited with 101".into()), seconds: 2.0 },
            Run { bench: Bench::Api, outcome: Outcome::NotRun, seconds: 0.0 },
        ];
        let quick = render(&Document { machine: machine(), quick: true, runs });
        assert!(quick.contains("| CPU | Test CPU |") && quick.contains("| commit | abc123 |"));
        assert!(quick.contains("**Quick run**"));
        let mc = "| Monte Carlo path-steps/s: granary / numpy | numpy, vectorised across paths | 0.14× | ≥ 5× \
                  | **missed**: 35.7× short of the goal |";
        assert!(quick.contains(mc), "{quick}");
        // the bench's own heading sits below its section's
        assert!(quick.contains("## Monte Carlo\n") && quick.contains("\n### Title\n"));
        assert!(quick.contains("Not measured in this run (see below): store."));
        assert!(quick.contains("Not measured: `cargo bench` exited with 101"));
        assert!(quick.contains("A partial run: left out with `--only`: api."));
        assert!(quick.contains("## API under load\n\nNot run (left out with `--only`).\n"));
        assert!(quick.contains("## Reproduce"));
        let full = render(&Document { machine: machine(), quick: false, runs: vec![] });
        assert!(!full.contains("Quick run"));
    }

    #[test]
    fn a_bench_section_starts_at_level_three_whatever_its_own_levels() {
        assert_eq!(demote("\n## Store\n\n### Parts\ntext\n"), "### Store\n\n#### Parts\ntext\n");
        assert_eq!(demote("# Title\n```sh\n# a comment\n```\n"), "### Title\n```sh\n# a comment\n```\n");
    }
}
