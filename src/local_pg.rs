//! Local mode: a private PostgreSQL cluster under the data directory, so one
//! command runs Tessera with nothing configured.
//!
//! The cluster listens on a Unix socket in the data directory only (no TCP port),
//! is created with the system's `initdb` on first use and started and stopped with
//! `pg_ctl`. PostgreSQL refuses to run as root; when Tessera runs as root, the
//! cluster runs as the unprivileged `postgres` system user, which owns it.

use anyhow::{Context as _, anyhow, bail};
use secrecy::SecretString;
use std::{
    os::unix::{fs::MetadataExt as _, process::CommandExt as _},
    path::{Path, PathBuf},
    process::Command,
};

const DATABASE: &str = "tessera";
const SUPERUSER: &str = "tessera";
/// Unix socket paths are limited to about 107 bytes on Linux.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// A running private cluster. Call [`LocalPostgres::stop`] when done.
#[derive(Debug)]
pub struct LocalPostgres {
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<SystemUser>,
    /// False when the cluster was already running (another process started it).
    started_here: bool,
}

#[derive(Debug, Clone)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl LocalPostgres {
    /// Creates (first time) and starts the cluster under `data_dir/postgres`.
    pub fn start(data_dir: &Path) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir().ok_or_else(|| {
            anyhow!(
                "local mode needs PostgreSQL's initdb and pg_ctl, which were not found on PATH \
                 or under /usr/lib/postgresql/*/bin: install PostgreSQL (Debian: apt-get install \
                 postgresql) or set TESSERA__DATABASE__URL to an existing server"
            )
        })?;
        let run_as = if running_as_root() {
            Some(system_user("postgres").ok_or_else(|| {
                anyhow!(
                    "PostgreSQL refuses to run as root and there is no `postgres` system user to \
                     run it as: create one (useradd --system postgres), run Tessera as another \
                     user, or set TESSERA__DATABASE__URL"
                )
            })?)
        } else {
            None
        };
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("resolving data directory {}", data_dir.display()))?;
        let cluster_dir = data_dir.join("postgres");
        let socket_dir = data_dir.join("postgres-socket");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            bail!(
                "the data directory path is too long for PostgreSQL's socket ({} bytes, at most \
                 {MAX_SOCKET_DIR_LEN}): choose a shorter --data-dir",
                socket_dir.as_os_str().len()
            );
        }
        let cluster = Self {
            cluster_dir,
            socket_dir,
            bin_dir,
            run_as,
            started_here: false,
        };
        cluster.prepare_dirs()?;
        if !cluster.cluster_dir.join("PG_VERSION").exists() {
            cluster.initdb()?;
        }
        cluster.start_server()
    }

    /// The connection URL (Unix socket, the cluster's own superuser).
    pub fn url(&self) -> SecretString {
        SecretString::from(format!(
            "postgres://{SUPERUSER}@localhost/{DATABASE}?host={}",
            self.socket_dir.display()
        ))
    }

    /// A URL for another database of the same cluster.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Stops the cluster if this process started it.
    pub fn stop(self) -> anyhow::Result<()> {
        if !self.started_here {
            return Ok(());
        }
        let status = self
            .pg_ctl()
            .args(["stop", "--wait", "--mode", "fast", "-D"])
            .arg(&self.cluster_dir)
            .status()
            .context("running pg_ctl stop")?;
        if !status.success() {
            bail!("pg_ctl stop failed for {}", self.cluster_dir.display());
        }
        Ok(())
    }

    /// Leaves the cluster running but has it stopped when process `pid` exits
    /// (for test runs, whose harness has no place to stop it).
    pub fn stop_when_process_exits(self, pid: u32) -> anyhow::Result<()> {
        if !self.started_here {
            return Ok(());
        }
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; exec '{}' stop --mode fast -D '{}'",
            pg_ctl.display(),
            self.cluster_dir.display()
        );
        let mut watcher = Command::new("/bin/sh");
        watcher
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        self.drop_privileges(&mut watcher);
        watcher
            .process_group(0)
            .spawn()
            .context("starting the cluster's watcher")?;
        Ok(())
    }

    fn prepare_dirs(&self) -> anyhow::Result<()> {
        for dir in [&self.cluster_dir, &self.socket_dir] {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            if let Some(user) = &self.run_as {
                std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))
                    .with_context(|| format!("giving {} to {}", dir.display(), user.name))?;
            }
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .with_context(|| format!("restricting {}", dir.display()))?;
        }
        Ok(())
    }

    fn initdb(&self) -> anyhow::Result<()> {
        tracing::info!(dir = %self.cluster_dir.display(), "creating the local PostgreSQL cluster");
        let mut command = Command::new(self.bin_dir.join("initdb"));
        command
            .arg("-D")
            .arg(&self.cluster_dir)
            .args(["--username", SUPERUSER, "--auth", "trust"])
            .args(["--encoding", "UTF8", "--no-locale", "--no-sync"]);
        self.drop_privileges(&mut command);
        run(command, "initdb")
    }

    fn start_server(mut self) -> anyhow::Result<Self> {
        let mut status = self.pg_ctl();
        status.args(["status", "-D"]).arg(&self.cluster_dir);
        let already_running = status
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !already_running {
            let options = format!(
                "-c listen_addresses='' -c unix_socket_directories='{}' -c timezone=UTC",
                self.socket_dir.display()
            );
            let mut start = self.pg_ctl();
            start
                .args(["start", "--wait", "--timeout", "60", "-D"])
                .arg(&self.cluster_dir)
                .arg("-l")
                .arg(self.cluster_dir.join("server.log"))
                .args(["-o", &options]);
            run(start, "pg_ctl start").with_context(|| {
                format!(
                    "see {} for PostgreSQL's own log",
                    self.cluster_dir.join("server.log").display()
                )
            })?;
            self.started_here = true;
        }
        self.create_database()?;
        Ok(self)
    }

    fn create_database(&self) -> anyhow::Result<()> {
        let psql = self.bin_dir.join("psql");
        let exists = Command::new(&psql)
            .args(["-h"])
            .arg(&self.socket_dir)
            .args(["-U", SUPERUSER, "-d", "postgres", "-tAc"])
            .arg(format!(
                "select 1 from pg_database where datname = '{DATABASE}'"
            ))
            .output()
            .context("running psql")?;
        if String::from_utf8_lossy(&exists.stdout).trim() == "1" {
            return Ok(());
        }
        let mut create = Command::new(psql);
        create
            .args(["-h"])
            .arg(&self.socket_dir)
            .args(["-U", SUPERUSER, "-d", "postgres", "-c"])
            .arg(format!("create database {DATABASE}"));
        run(create, "creating the tessera database")
    }

    fn pg_ctl(&self) -> Command {
        let mut command = Command::new(self.bin_dir.join("pg_ctl"));
        self.drop_privileges(&mut command);
        command
    }

    fn drop_privileges(&self, command: &mut Command) {
        if let Some(user) = &self.run_as {
            command.uid(user.uid).gid(user.gid).current_dir("/");
            command.env("HOME", "/");
        }
    }
}

fn run(mut command: Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("running {what}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    bail!("{what} failed: {}", format!("{stderr}{stdout}").trim())
}

fn running_as_root() -> bool {
    // The owner of /proc/self is the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn system_user(name: &str) -> Option<SystemUser> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 || fields[0] != name {
            return None;
        }
        Some(SystemUser {
            name: name.to_owned(),
            uid: fields[2].parse().ok()?,
            gid: fields[3].parse().ok()?,
        })
    })
}

/// Where `initdb` and `pg_ctl` live: PATH first, then the usual install places,
/// newest version first.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_tools(&dir) {
                // Resolve symlinks so psql and friends come from the same install.
                let real = dir.join("pg_ctl").canonicalize().ok();
                return real
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .or(Some(dir));
            }
        }
    }
    let mut candidates: Vec<PathBuf> = ["/usr/lib/postgresql", "/usr/pgsql", "/opt/homebrew/opt"]
        .iter()
        .filter_map(|root| std::fs::read_dir(root).ok())
        .flat_map(|entries| entries.filter_map(Result::ok).map(|e| e.path().join("bin")))
        .chain(["/usr/local/pgsql/bin".into(), "/opt/homebrew/bin".into()])
        .filter(|dir| has_tools(dir))
        .collect();
    // Version directories sort numerically when compared as numbers.
    candidates.sort_by_key(|dir| {
        dir.parent()
            .and_then(Path::file_name)
            .and_then(|v| v.to_str())
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}
