//! A private Postgres cluster on an OS-chosen port, for tests that stop and
//! restart Postgres without touching the shared one. Uses the server
//! binaries of the machine (Debian's `/usr/lib/postgresql/<version>/bin`,
//! else `PATH`); `initdb` refuses to run as root, so as root they run as the
//! `postgres` user.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub struct PostgresServer {
    pub port: u16,
    data_dir: PathBuf,
}

impl PostgresServer {
    /// A fresh cluster with trust auth for `postgres`, started and migrated.
    pub async fn start() -> Self {
        let server = Self {
            port: crate::free_port(),
            data_dir: std::env::temp_dir().join(format!("halo-pg-{}", uuid::Uuid::new_v4())),
        };
        server.run(
            "initdb",
            &[
                "-D",
                server.dir(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.restart().await;
        let pool = sqlx::PgPool::connect(&server.url())
            .await
            .expect("connect to the private Postgres");
        halo_db::migrate(&pool)
            .await
            .expect("migrations apply to the private Postgres");
        pool.close().await;
        server
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts it again on the same port, with the same data.
    pub async fn restart(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir()
        );
        let log = self.data_dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.dir(),
                "-o",
                &options,
                "-l",
                log.to_str().expect("a UTF-8 temp dir"),
                "-w",
                "start",
            ],
        );
        assert!(
            crate::port_opens(self.port, Duration::from_secs(10)).await,
            "Postgres did not come up on port {}",
            self.port
        );
    }

    /// Stops it the way an operator or a failover would: open connections
    /// are terminated.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", self.dir(), "-m", "fast", "-w", "stop"]);
    }

    fn dir(&self) -> &str {
        self.data_dir.to_str().expect("a UTF-8 temp dir")
    }

    /// Runs one of the server binaries and insists that it succeeds.
    fn run(&self, program: &str, args: &[&str]) {
        let output = command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tests need Postgres' server binaries ({program}): {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// `program` from the server binaries, as `postgres` when we are root.
fn command(program: &str) -> Command {
    let program = bin_dir().map_or_else(|| program.into(), |dir| dir.join(program));
    let running_as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if running_as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// The newest installed major version's binaries, Debian's layout.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{}/bin", versions.pop()?));
    bin.join("initdb").exists().then_some(bin)
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // It may be stopped already; nothing to check.
        let _ = command("pg_ctl")
            .args(["-D", self.dir(), "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
