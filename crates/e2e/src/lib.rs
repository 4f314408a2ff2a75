//! Harness of the browser tests: a `granary up` server in-process on a loopback port (its clock
//! stopped, time moved by the dashboard's own buttons), a local wallet key, Debian's ChromeDriver
//! and headless Chromium driven through WebDriver (fantoccini), and screenshots kept under
//! `target/e2e-screenshots/` for people to look at.

use fantoccini::{Client, ClientBuilder, Locator};
use granary_engine::Address;
use granary_server::platform::PlatformConfig;
use granary_server::{App, UpOptions};
use granary_store::{Location, SnapshotPolicy};
use granary_world::market::MarketConfig;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const PASSPHRASE: &str = "correct horse battery staple";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The platform under test and its wallet key.
pub struct Platform {
    pub app: Arc<App>,
    pub base: String,
    pub address: Address,
    _dir: tempfile::TempDir,
}

/// Seed a fresh platform with one wallet key (funded by the faucet) and serve it on 127.0.0.1.
pub async fn start_platform() -> Platform {
    let dir = tempfile::tempdir().expect("temp dir");
    let wallet_dir = dir.path().join("wallet");
    // A fresh key in a keystore v3 file, cheap scrypt for the test.
    let key = granary_engine::tx::dev_key("e2e-user");
    let address = granary_engine::tx::key_address(&key);
    let ks = granary_wallet::encrypt(&key, PASSPHRASE.as_bytes(), granary_wallet::ScryptParams { log_n: 10 })
        .expect("encrypt the test key");
    granary_wallet::WalletDir::new(&wallet_dir).store(&ks).expect("store the test key");
    let opts = UpOptions {
        platform: PlatformConfig {
            location: Location::Sqlite(dir.path().join("data")),
            policy: SnapshotPolicy::default(),
            seed: 42,
            market: MarketConfig::default(),
        },
        wallet_dir,
        addr: "127.0.0.1:0".parse().expect("addr"),
        speed: 0.0,
        tick: Duration::from_secs(1),
        paused: true,
        limits: granary_server::limits::Limits::default(),
    };
    let app = tokio::task::spawn_blocking(move || granary_server::open(&opts).expect("open the platform"))
        .await
        .expect("open task");
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || granary_server::fund_wallet_keys(&app2)).await.expect("faucet");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = granary_server::router(app.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Platform { app, base, address, _dir: dir }
}

/// ChromeDriver on a free port, killed on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Start Debian's ChromeDriver. Panics with what to install if it is missing: the browser test
/// never passes by skipping.
pub fn start_driver() -> Driver {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's browser with `apt-get install -y chromium chromium-driver`"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(20), "chromedriver did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, port, profile: tempfile::tempdir().expect("profile dir") }
}

/// A headless Chromium session with a fresh profile and no network beyond loopback.
pub async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                format!("--user-data-dir={}", driver.profile.path().display()),
                format!("--window-size={width},{height}"),
            ]
        }),
    );
    ClientBuilder::rustls()
        .expect("tls connector")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// Where screenshots go: `target/e2e-screenshots/` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let dir = target.join("e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Save a PNG of the whole page (the window is resized to the document's height first).
pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Text of the first element matching `css`.
pub async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}")).text().await.expect("text")
}

/// Value of attribute `attr` of the first element matching `css`.
pub async fn attr(c: &Client, css: &str, attr: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}")).attr(attr).await.expect("attr")
}

/// Click an element that navigates (a link, a form's button) and wait for the next page to load:
/// the old document carries a marker the new one does not.
pub async fn click(c: &Client, css: &str) {
    c.execute("window.__granaryOld = true;", vec![]).await.expect("mark the page");
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}")).click().await.expect("click");
    let t = Instant::now();
    loop {
        let loaded = c
            .execute("return window.__granaryOld !== true && document.readyState === 'complete';", vec![])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if loaded {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "clicking {css} did not load a page within 60 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub async fn fill(c: &Client, css: &str, value: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

/// Choose the `<option>` whose value is `value` in the select `css`.
pub async fn select(c: &Client, css: &str, value: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"));
    el.select_by_value(value).await.unwrap_or_else(|e| panic!("no option {value} in {css}: {e}"));
}
