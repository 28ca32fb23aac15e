//! The real-browser suite: `tests/e2e/*.test.mjs`, node's test runner driving
//! Debian's Chromium through playwright-core, against the real binary serving
//! the demo tenant on a fresh database. Screenshots land in `target/e2e/`.
//!
//! Needs `chromium` (or `CHROME_BIN`), Node.js 20.10+ and `tests/e2e/node_modules`
//! (installed here with `npm ci` when missing). `TESSERA_SKIP_BROWSER_TESTS=1`
//! skips it; anything else missing fails it, so CI cannot pass without it.

use crate::helpers::TestDatabase;
use std::{
    io::{BufRead as _, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, mpsc},
    thread,
    time::{Duration, Instant},
};

const HOW_TO: &str = "install Debian's chromium (apt-get install chromium) and run `npm ci` in \
                      tests/e2e, or set TESSERA_SKIP_BROWSER_TESTS=1 to skip";
const SUITE_TIMEOUT: Duration = Duration::from_secs(8 * 60);
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_browser_suite_passes_against_a_real_server() {
    if std::env::var("TESSERA_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("skipped the browser suite: TESSERA_SKIP_BROWSER_TESTS=1");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let e2e = root.join("tests/e2e");
    let chrome = std::env::var_os("CHROME_BIN")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chrome.is_file(),
        "no browser at {}: {HOW_TO}",
        chrome.display()
    );
    assert!(
        succeeds(Command::new("node").arg("--version")),
        "`node` is not on PATH (Node.js 20.10+ runs the browser suite): {HOW_TO}"
    );
    install_node_modules(&e2e);

    let mut test_files: Vec<PathBuf> = std::fs::read_dir(&e2e)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    test_files.sort();
    assert!(!test_files.is_empty(), "no tests/e2e/*.test.mjs files");

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let screenshots = target.join("e2e");
    let _ = std::fs::remove_dir_all(&screenshots);
    std::fs::create_dir_all(&screenshots).unwrap();

    let database = TestDatabase::create().await;
    let server = Server::start(&database.url);
    let base_url = format!("http://{}", server.address);

    let mut node = Command::new("node");
    node.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(&test_files)
        .current_dir(root)
        .env("BASE_URL", &base_url)
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROME_BIN", &chrome)
        // Where the demo's mail lands (.eml files), for the guest flow's link.
        .env("DATA_DIR", &server.data_dir)
        .env_remove("NO_COLOR")
        .env("FORCE_COLOR", "0");
    let started = Instant::now();
    let suite = tokio::task::spawn_blocking(move || run_with_timeout(node, SUITE_TIMEOUT))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let server_log = server.log();
    drop(server);

    match suite.status {
        Some(status) if status.success() => {
            // What the suite measured: axe-core counts per page, view and
            // scheme, CSS+JS weights, the queue's Largest Contentful Paint.
            let report =
                std::fs::read_to_string(screenshots.join("report.txt")).unwrap_or_default();
            eprintln!(
                "browser suite passed in {:.1} s; screenshots in {}\n{report}",
                elapsed.as_secs_f64(),
                screenshots.display()
            );
        }
        Some(status) => panic!(
            "the browser suite failed ({status}) after {:.1} s; screenshots in {}\n\
             ---- node output ----\n{}\n---- server log (last lines) ----\n{}",
            elapsed.as_secs_f64(),
            screenshots.display(),
            suite.output,
            tail(&server_log, 40),
        ),
        None => panic!(
            "the browser suite did not finish within {} s and was stopped\n\
             ---- node output ----\n{}\n---- server log (last lines) ----\n{}",
            SUITE_TIMEOUT.as_secs(),
            suite.output,
            tail(&server_log, 40),
        ),
    }
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `npm ci` in `tests/e2e` when its `node_modules` is missing or lacks a
/// package the suite uses, so that a fresh
/// clone runs the suite with plain `cargo test`. Leaves the copy of the lock
/// file that `.ci/run` compares to decide whether to install again.
fn install_node_modules(e2e: &Path) {
    if ["playwright-core", "axe-core"].iter().all(|package| {
        e2e.join("node_modules")
            .join(package)
            .join("package.json")
            .is_file()
    }) {
        return;
    }
    assert!(
        succeeds(Command::new("npm").arg("--version")),
        "tests/e2e/node_modules is missing and `npm` is not on PATH: {HOW_TO}"
    );
    eprintln!("tests/e2e/node_modules is missing: running `npm ci` there");
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(e2e)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`npm ci` in tests/e2e failed ({}): {HOW_TO}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let _ = std::fs::copy(
        e2e.join("package-lock.json"),
        e2e.join("node_modules/.tessera-package-lock.json"),
    );
}

/// `tessera serve --demo` on a free port; stopped (SIGTERM, then wait) when
/// dropped, so a failing assertion never leaves it running.
struct Server {
    child: Child,
    address: String,
    data_dir: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(database_url: &str) -> Self {
        let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("browser-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .env("TESSERA__DATABASE__URL", database_url)
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines_rx) = mpsc::channel();
        collect(child.stdout.take().unwrap(), &log, Some(lines_tx), false);
        collect(child.stderr.take().unwrap(), &log, None, false);
        let mut server = Self {
            child,
            address: String::new(),
            data_dir,
            log,
        };
        let deadline = Instant::now() + SERVER_START_TIMEOUT;
        server.address = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("Tessera is listening on http://") {
                        break rest.split_whitespace().next().unwrap().to_owned();
                    }
                }
                Err(_) => {
                    // Let it finish writing why it stopped, if it did.
                    let exited = wait_for(&mut server.child, Duration::from_secs(2));
                    panic!(
                        "the server did not print its address within {} s (exit: {exited:?}):\n{}",
                        SERVER_START_TIMEOUT.as_secs(),
                        server.log()
                    )
                }
            }
        };
        server
    }

    fn log(&self) -> String {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        if wait_for(&mut self.child, Duration::from_secs(15)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Appends every line of `stream` to `log` (and sends it on `lines`, and prints
/// it when `echo`) on a thread of its own, so the child never blocks on a full pipe.
fn collect(
    stream: impl Read + Send + 'static,
    log: &Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
    echo: bool,
) -> thread::JoinHandle<()> {
    let log = Arc::clone(log);
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if echo {
                eprintln!("{line}");
            }
            if let Ok(mut log) = log.lock() {
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(lines) = &lines {
                let _ = lines.send(line);
            }
        }
    })
}

/// Whether the test runs with `--nocapture`: then the suite's output is
/// streamed as it comes, else it is only shown in a failure's message.
fn nocapture() -> bool {
    std::env::var_os("RUST_TEST_NOCAPTURE").is_some_and(|v| v != "0")
        || std::env::args().any(|arg| arg == "--nocapture" || arg == "--no-capture")
}

struct SuiteRun {
    /// `None` when it was stopped for taking too long.
    status: Option<ExitStatus>,
    output: String,
}

/// Runs `command` with its output collected, stopping it (SIGTERM, which
/// playwright answers by closing the browser, then SIGKILL) after `timeout`.
fn run_with_timeout(mut command: Command, timeout: Duration) -> SuiteRun {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = Arc::new(Mutex::new(String::new()));
    let readers = [
        collect(child.stdout.take().unwrap(), &output, None, nocapture()),
        collect(child.stderr.take().unwrap(), &output, None, nocapture()),
    ];
    let status = wait_for(&mut child, timeout);
    if status.is_some() {
        for reader in readers {
            let _ = reader.join();
        }
    } else {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        if wait_for(&mut child, Duration::from_secs(10)).is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A stray grandchild may hold the pipes open: don't wait for readers.
        thread::sleep(Duration::from_millis(200));
    }
    let output = output.lock().map(|o| o.clone()).unwrap_or_default();
    SuiteRun { status, output }
}

fn wait_for(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
