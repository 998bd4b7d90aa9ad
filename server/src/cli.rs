//! The `sluice` command line: serve the console and API, migrate, manage users.

use std::{net::SocketAddr, path::PathBuf};

use app::auth::store::{self, SignUp};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::{Application, config::Config, telemetry};

/// Sluice: a self-hostable messaging platform (Streams API, console, delivery workers).
///
/// Settings come from, in increasing priority: built-in defaults, the config file
/// (`sluice.toml` when present, or --config), `SLUICE_*` environment variables, then flags.
/// See sluice.example.toml for every setting.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub overrides: Overrides,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags that override the config file and the environment.
#[derive(Debug, Default, Args, Serialize)]
pub struct Overrides {
    /// Config file to read [default: sluice.toml when it exists]
    #[arg(short, long, global = true, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on [env: SLUICE_ADDR] [default: 127.0.0.1:3000]
    #[arg(long, global = true, value_name = "HOST:PORT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<SocketAddr>,

    /// Database URL, sqlite://… or postgres://… [env: SLUICE_DATABASE_URL]
    /// [default: sqlite://data/sluice.db]
    #[arg(long, global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,

    /// Folder for the generated secret key and the default SQLite file [env: SLUICE_DATA_DIR]
    /// [default: data]
    #[arg(long, global = true, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,

    /// Log filter, such as info or sluice=debug,info [env: SLUICE_LOG_LEVEL] [default: info]
    #[arg(long, global = true, value_name = "FILTER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,

    /// Log format: pretty or json [env: SLUICE_LOG_FORMAT] [default: pretty]
    #[arg(long, global = true, value_name = "FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and the API (what `sluice` does with no command)
    Serve,
    /// Apply pending database migrations, then exit
    Migrate,
    /// Manage console users
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account with this user as its owner
    Create {
        /// The user's email address, used to sign in
        #[arg(long)]
        email: String,
        /// The user's password, 10 to 128 characters
        #[arg(long)]
        password: String,
        /// The account's name [default: the email's domain]
        #[arg(long, default_value = "")]
        account_name: String,
    },
}

pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::load(&cli.overrides)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(&config)?;
            let app = Application::build(config).await?;
            println!("Sluice is running: open http://{}", app.addr());
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = app::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            println!("migrations applied");
        }
        Command::User(UserCommand::Create {
            email,
            password,
            account_name,
        }) => {
            let db = app::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            let form = SignUp::parse(&account_name, &email, &password)?;
            let user = store::sign_up(&db, form).await?;
            println!(
                "created user {} ({}) in account {} ({})",
                user.email, user.user_id, user.account_name, user.account_id
            );
        }
    }
    Ok(())
}
