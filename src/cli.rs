//! The `tessera` command line. Every failure is one line on stderr and a
//! non-zero exit status.

use crate::{
    app::{self, Database},
    auth::{
        self,
        model::{NewUser, Role},
    },
    config::{Config, Overrides},
    seed, telemetry, tenants,
};
use anyhow::{Context as _, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::{io::IsTerminal as _, net::SocketAddr, path::PathBuf, process::ExitCode};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Tessera: a self-hosted, multi-tenant helpdesk"
)]
struct Cli {
    /// Data directory (local-mode database, session secret, attachments).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (and background jobs).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
        /// Create the demo tenant and accounts, and print them.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill the database with generated tenants, tickets and replies in bulk
    /// (for benchmarks; see bench/README.md). Tenants that exist are skipped.
    Seed {
        /// How many tenants: `PREFIX-1` gets 30 % of the tickets, the rest a long tail.
        #[arg(long, default_value_t = 100)]
        tenants: u32,
        /// Tickets in all.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
        /// Replies in all (internal notes included).
        #[arg(long, default_value_t = 5_000_000)]
        replies: u64,
        /// Tenant slugs are PREFIX-1 … PREFIX-N.
        #[arg(long, default_value = "bench", value_name = "PREFIX")]
        seed_tenant_prefix: String,
        /// Password of every seeded admin and agent.
        #[arg(
            long,
            env = "TESSERA_PASSWORD",
            hide_env_values = true,
            default_value = "tessera-bench"
        )]
        password: String,
        /// Tenants seeded at once, one database connection each.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Tickets written per batch.
        #[arg(long, default_value_t = seed::DEFAULT_CHUNK)]
        chunk: u64,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant and its first admin.
    Create {
        /// The tenant's URL segment: lowercase letters, digits, hyphens.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        admin_name: Option<String>,
        /// The admin's password; prompted for when omitted on a terminal.
        #[arg(long, env = "TESSERA_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user in a tenant.
    Create {
        /// The tenant's slug.
        tenant: String,
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        name: Option<String>,
        /// The password; prompted for when omitted on a terminal.
        #[arg(long, env = "TESSERA_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Create the user without a password (a contact who cannot sign in yet).
        #[arg(long, conflicts_with = "password")]
        no_password: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Customer,
    Agent,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Customer => Role::Customer,
            RoleArg::Agent => Role::Agent,
            RoleArg::Admin => Role::Admin,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let bind = match &cli.command {
        Command::Serve { bind, .. } => *bind,
        _ => None,
    };
    let overrides = Overrides {
        bind,
        data_dir: cli.data_dir.clone(),
    };
    let config = match Config::load(&overrides) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` keeps the whole cause chain on one line.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, .. } => app::serve(config, demo).await,
        Command::Migrate => {
            Database::open(&config).await?.close().await;
            println!("Migrations are up to date.");
            Ok(())
        }
        Command::Tenant { command } => {
            let database = Database::open(&config).await?;
            let result = tenant_command(&database, &config, command).await;
            database.close().await;
            result
        }
        Command::User { command } => {
            let database = Database::open(&config).await?;
            let result = user_command(&database, command).await;
            database.close().await;
            result
        }
        Command::Seed {
            tenants,
            tickets,
            replies,
            seed_tenant_prefix,
            password,
            jobs,
            chunk,
        } => {
            let options = seed::SeedOptions {
                tenants,
                tickets,
                replies,
                prefix: seed_tenant_prefix,
                password,
                jobs,
                chunk,
            };
            let database = Database::open(&config).await?;
            let started = std::time::Instant::now();
            let progress: seed::Progress = std::sync::Arc::new(|line: &str| println!("{line}"));
            let result = seed::run(&database.db, &options, progress).await;
            database.close().await;
            let report = result?;
            println!(
                "Seeded {} tenants ({} tickets, {} replies), skipped {} that existed, in {:.0} s. \
                 Staff sign in as admin@SLUG.example or agent1@SLUG.example.",
                report.seeded.len(),
                report.seeded.iter().map(|t| t.tickets).sum::<u64>(),
                report.seeded.iter().map(|t| t.replies).sum::<u64>(),
                report.skipped.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn tenant_command(
    database: &Database,
    config: &Config,
    command: TenantCommand,
) -> anyhow::Result<()> {
    let TenantCommand::Create {
        slug,
        name,
        admin_email,
        admin_name,
        password,
    } = command;
    let password = password_or_prompt(password)?;
    let admin = NewUser::new(
        &admin_email,
        admin_name.as_deref(),
        Role::Admin,
        Some(password),
    )
    .map_err(|reason| anyhow!("admin: {reason}"))?;
    let tenant = tenants::service::create_tenant(&database.db, &slug, &name, admin, false).await?;
    println!(
        "Created tenant `{}` ({}). Sign in at {}/{}/login as {}.",
        tenant.slug,
        tenant.name,
        config.server.public_url.trim_end_matches('/'),
        tenant.slug,
        admin_email.trim()
    );
    Ok(())
}

async fn user_command(database: &Database, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        tenant,
        email,
        role,
        name,
        password,
        no_password,
    } = command;
    let tenant = tenants::repo::find_by_slug(database.db.pool(), &tenant)
        .await?
        .ok_or_else(|| anyhow!("there is no tenant with the slug `{tenant}`"))?;
    let password = if no_password {
        None
    } else {
        Some(password_or_prompt(password)?)
    };
    let user =
        NewUser::new(&email, name.as_deref(), role.into(), password).map_err(anyhow::Error::msg)?;
    let user = auth::service::create_user(&database.db, tenant.id, user).await?;
    println!(
        "Created {} {} <{}> in tenant `{}`.",
        user.role.label().to_lowercase(),
        user.name,
        user.email,
        tenant.slug
    );
    Ok(())
}

/// The given password, or one typed twice at a terminal.
fn password_or_prompt(given: Option<String>) -> anyhow::Result<String> {
    if let Some(password) = given {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password given: pass --password or set TESSERA_PASSWORD");
    }
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second = rpassword::prompt_password("Again: ").context("reading the password")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}
