//! What the benchmarks (`cargo bench`) leave behind for `granary bench all`: each writes its
//! detailed section as markdown, `<dir>/<name>.md`, and its key figures as JSON,
//! `<dir>/<name>.json`, where `<dir>` is `$GRANARY_BENCH_OUT`, else `<target dir>/bench`.
//!
//! The JSON: `{"bench": name, "quick": bool, "figures": {key: number or null}, "notes": {key:
//! text}}`. A figure that could not be measured (a peer missing, a database unreachable) is absent
//! or null; the reader reports it as not measured rather than guessing.

use serde_json::{Map, Value};
use std::path::PathBuf;
use std::time::SystemTime;

/// `GRANARY_BENCH_QUICK` set to anything but empty or `0`: the short run (smaller sizes, fewer
/// repetitions), for checking that everything runs; its figures are not the ones to publish.
pub fn quick() -> bool {
    std::env::var("GRANARY_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The cargo target folder: `$CARGO_TARGET_DIR`, else three levels above the running bench
/// (`<target>/<profile>/deps/<bench>-<hash>`), else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| crate::workspace_root().join("target"))
}

/// Where reports go: `$GRANARY_BENCH_OUT`, else `<target dir>/bench`.
pub fn out_dir() -> PathBuf {
    match std::env::var_os("GRANARY_BENCH_OUT") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target_dir().join("bench"),
    }
}

/// Criterion's estimate of the time of one iteration of `id` (`group/function`), in nanoseconds:
/// its slope where it fitted one, else its mean, read from `<criterion home>/<id>/new/estimates.json`
/// (`$CRITERION_HOME`, else `<target dir>/criterion`). `None` when there is none written since
/// `since` (the function was filtered out, or failed), so a stale figure is never reported.
pub fn criterion_ns(id: &str, since: SystemTime) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME").map_or_else(|| target_dir().join("criterion"), PathBuf::from);
    let path = home.join(id).join("new/estimates.json");
    let fresh = std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let v: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let typical = if v["slope"].is_object() { &v["slope"] } else { &v["mean"] };
    typical["point_estimate"].as_f64()
}

/// The CPU's model name from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_string())
}

/// One benchmark's figures, written with its markdown by [`Report::write`].
pub struct Report {
    name: String,
    figures: Map<String, Value>,
    notes: Map<String, Value>,
}

impl Report {
    pub fn new(name: &str) -> Self {
        Report { name: name.to_string(), figures: Map::new(), notes: Map::new() }
    }

    /// A number; NaN and infinities are written as null (not measured).
    pub fn figure(&mut self, key: &str, value: f64) -> &mut Self {
        let v = serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.figures.insert(key.to_string(), v);
        self
    }

    pub fn note(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.notes.insert(key.to_string(), Value::String(value.into()));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("bench".into(), Value::String(self.name.clone()));
        o.insert("quick".into(), Value::Bool(quick()));
        o.insert("figures".into(), Value::Object(self.figures.clone()));
        o.insert("notes".into(), Value::Object(self.notes.clone()));
        Value::Object(o)
    }

    /// Write `<out dir>/<name>.md` and `<out dir>/<name>.json`; says where on stdout, or why not
    /// on stderr (a benchmark reports, it does not fail on a full disk).
    pub fn write(&self, markdown: &str) {
        let dir = out_dir();
        let md = dir.join(format!("{}.md", self.name));
        let json = dir.join(format!("{}.json", self.name));
        let text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&md, markdown))
            .and_then(|()| std::fs::write(&json, text + "\n"));
        match written {
            Ok(()) => println!("\n(written to {} and {})", md.display(), json.display()),
            Err(e) => eprintln!("could not write the report to {}: {e}", dir.display()),
        }
    }
}
