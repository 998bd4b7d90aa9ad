//! The `sluice` command line: serve the console and API, migrate, manage users.

use std::{net::SocketAddr, path::PathBuf};

use app::{
    auth::store::{self, SignUp},
    connections::{ConnectionInput, ConnectionSettings},
    crypto::SecretKey,
    embed::{self, EmbedKeyInput, Widget},
    ids::{AccountId, EmbedKeyId, StreamId},
    streams::{self, StreamInput, StreamKind, access, settings::WebhookInput, settings_store},
};
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
    /// Manage streams
    #[command(subcommand)]
    Stream(StreamCommand),
    /// Manage upstream connections (HTTP SMS providers, SMPP SMSCs)
    #[command(subcommand)]
    Connection(ConnectionCommand),
    /// Manage embed keys: a stream's live widgets shown on other sites
    #[command(subcommand)]
    Embed(EmbedCommand),
    /// WhatsApp access, when `[features] whatsapp = "request"`
    #[command(subcommand)]
    Whatsapp(WhatsappCommand),
}

#[derive(Debug, Subcommand)]
pub enum WhatsappCommand {
    /// List the accounts that asked for WhatsApp streams, and which were granted
    Requests {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Let the account of OWNER create WhatsApp streams
    Grant {
        /// Email of a user of the account
        #[arg(long, value_name = "OWNER")]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmbedCommand {
    /// Make an embed key for a stream of OWNER's account and print it with its snippet
    Create {
        /// Email of a user of the account the stream belongs to
        #[arg(long, value_name = "OWNER")]
        email: String,
        /// The stream's id
        #[arg(long)]
        stream: String,
        /// A site that may show the widgets, such as https://tools.example.com (repeatable)
        #[arg(long = "origin", value_name = "URL", required = true)]
        origins: Vec<String>,
        /// Let the key's send widget send test messages through the stream
        #[arg(long)]
        allow_send: bool,
        /// Show whole phone numbers in the messages widget (masked otherwise)
        #[arg(long)]
        show_numbers: bool,
        /// What the key is for [default: Embed]
        #[arg(long, default_value = "Embed")]
        name: String,
        /// Days until the key stops working [default: never]
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
        /// Print {"key","url","snippet"} instead of text
        #[arg(long)]
        json: bool,
    },
    /// Revoke an embed key at once, open widgets included
    Revoke {
        /// Email of a user of the account the key belongs to
        #[arg(long, value_name = "OWNER")]
        email: String,
        /// The key (ek_…) or its id (emb_…)
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Add a connection to the account of OWNER and print its id
    Add {
        /// Email of a user of the account the connection belongs to
        #[arg(long, value_name = "OWNER")]
        email: String,
        /// The connection's name, unique in the account
        #[arg(long)]
        name: String,
        /// Its settings as JSON, as the console saves them, such as
        /// {"kind":"smpp","host":"smsc.example.com","port":2775,"system_id":"acme"} or
        /// {"kind":"http","url":"https://api.example.com/sms"}
        #[arg(long, value_name = "JSON")]
        settings: String,
        /// The auth header's value (http) or the password (smpp) [env: SLUICE_CONNECTION_SECRET]
        #[arg(long, env = "SLUICE_CONNECTION_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Make it the account's default connection (the first one always is)
        #[arg(long)]
        default: bool,
        /// Print {"id":…} instead of text
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Create a ready stream in the account of OWNER and print its id and token
    Create {
        /// Email of a user of the account the stream belongs to
        #[arg(long, value_name = "OWNER")]
        email: String,
        /// The stream's name
        #[arg(long)]
        name: String,
        /// sms_marketing, sms_transactional, sms_otp, sms_two_way or whatsapp
        #[arg(long = "type", value_name = "TYPE")]
        kind: StreamKind,
        /// Simulate delivery on the demo channel instead of sending for real
        #[arg(long)]
        demo: bool,
        /// With --demo: deliver every message and never reply at random (scripted numbers aside)
        #[arg(long, requires = "demo")]
        predictable: bool,
        /// Allow API calls only from this address or CIDR (repeatable; enables the IP ACL)
        #[arg(long = "allow-ip", value_name = "CIDR")]
        allow_ips: Vec<String>,
        /// Tag the stream (repeatable)
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Hand at most this many messages a second to the channel
        #[arg(long = "max-rate", value_name = "PER_SECOND")]
        max_rate: Option<u32>,
        /// Send only to numbers with this calling code, such as +44 (repeatable; none: every
        /// country)
        #[arg(long = "country", value_name = "CODE")]
        countries: Vec<String>,
        /// Send the stream's events (message.status, and message.received where it receives
        /// messages) to this URL, signed; prints the signing secret
        #[arg(long = "webhook-url", value_name = "URL")]
        webhook_url: Option<String>,
        /// Print {"id":…,"token":…} (and "webhook_secret" with --webhook-url) instead of text
        #[arg(long)]
        json: bool,
    },
    /// Set the destination countries of a stream of OWNER's account
    Countries {
        /// Email of a user of the account the stream belongs to
        #[arg(long, value_name = "OWNER")]
        email: String,
        /// The stream's id
        #[arg(long)]
        stream: String,
        /// A calling code the stream may send to, such as +44 (repeatable)
        #[arg(long = "country", value_name = "CODE", required_unless_present = "all")]
        countries: Vec<String>,
        /// Send to every country again
        #[arg(long, conflicts_with = "countries")]
        all: bool,
    },
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

/// The opened database, the secret key, and the id of the account `email` belongs to.
async fn owners_account(
    config: &Config,
    email: &str,
) -> Result<(app::db::Db, SecretKey, AccountId), Box<dyn std::error::Error>> {
    let (db, key) = crate::open_database(config).await?;
    let account_id = store::account_of(&db, email)
        .await?
        .ok_or_else(|| format!("no user with the email {email}"))?;
    Ok((db, key, account_id))
}

/// A store's refusal as the CLI prints it: a field's own message, else the error.
fn field_message(error: streams::store::StreamError) -> String {
    match error {
        streams::store::StreamError::Invalid(field) => field.message,
        other => other.to_string(),
    }
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
            crate::open_database(&config).await?;
            println!("migrations applied");
        }
        Command::User(UserCommand::Create {
            email,
            password,
            account_name,
        }) => {
            let (db, key) = crate::open_database(&config).await?;
            let form = SignUp::parse(&account_name, &email, &password)?;
            let user = store::sign_up(&db, form, Some(&key)).await?;
            println!(
                "created user {} ({}) in account {} ({})",
                user.email, user.user_id, user.account_name, user.account_id
            );
        }
        Command::Stream(StreamCommand::Create {
            email,
            name,
            kind,
            demo,
            predictable,
            allow_ips,
            tags,
            max_rate,
            countries,
            webhook_url,
            json,
        }) => {
            let (db, key, account_id) = owners_account(&config, &email).await?;
            if kind == StreamKind::Whatsapp
                && access::store::access(&db, config.features.whatsapp, &account_id).await?
                    != access::WhatsAppAccess::Open
            {
                return Err(format!(
                    "WhatsApp streams are not open to the account of {email}: `sluice whatsapp grant --email {email}` first"
                )
                .into());
            }
            let egress = app::egress::Egress {
                allow_private: config.webhooks.allow_private,
            };
            // Checked before the stream is created, so a refused URL leaves nothing behind.
            let webhook =
                match webhook_url {
                    Some(url) => {
                        egress
                            .check_saved_url(url.trim())
                            .await
                            .map_err(|blocked| format!("--webhook-url is refused: {blocked}."))?;
                        let input = WebhookInput {
                            url,
                            ..WebhookInput::default()
                        };
                        Some(input.validate().map_err(|field| {
                            format!("--webhook-url is refused: {}", field.message)
                        })?)
                    }
                    None => None,
                };
            let input = StreamInput {
                name,
                ip_acl_enabled: !allow_ips.is_empty(),
                allowed_ips: allow_ips,
                tags,
                demo,
                demo_predictable: predictable,
                max_rate,
                allowed_countries: countries,
                ..StreamInput::default()
            };
            let (stream, token) =
                streams::store::create(&db, &key, &account_id, kind, &input, false).await?;
            let webhook_secret = match webhook {
                Some(webhook) => {
                    settings_store::save_webhook(&db, &key, &account_id, &stream.id, webhook)
                        .await?;
                    let secret = settings_store::webhook_signing_secret(
                        &db,
                        &key,
                        &account_id,
                        &stream.id,
                        false,
                    )
                    .await?;
                    Some(secret)
                }
                None => None,
            };
            if json {
                let mut created = serde_json::json!({ "id": stream.id, "token": token });
                if let Some(secret) = &webhook_secret {
                    created["webhook_secret"] = secret.as_str().into();
                }
                println!("{created}");
            } else {
                println!(
                    "created stream {} ({})\ntoken: {token}",
                    stream.name, stream.id
                );
                if let Some(secret) = webhook_secret {
                    println!("webhook signing secret: {secret}");
                }
            }
        }
        Command::Stream(StreamCommand::Countries {
            email,
            stream,
            countries,
            all,
        }) => {
            let (db, _, account_id) = owners_account(&config, &email).await?;
            let wanted = if all { Vec::new() } else { countries };
            let stream = StreamId::from(stream);
            let stored = streams::store::set_countries(&db, &account_id, &stream, &wanted)
                .await
                .map_err(field_message)?;
            if stored.is_empty() {
                println!("stream {stream} sends to every country");
            } else {
                println!("stream {stream} sends only to {}", stored.join(", "));
            }
        }
        Command::Embed(EmbedCommand::Create {
            email,
            stream,
            origins,
            allow_send,
            show_numbers,
            name,
            expires_in_days,
            json,
        }) => {
            let (db, _, account_id) = owners_account(&config, &email).await?;
            let input = EmbedKeyInput {
                name,
                origins,
                can_send: allow_send,
                shows_numbers: show_numbers,
                expires_in_days,
            };
            let (info, key) =
                embed::store::create(&db, &account_id, &StreamId::from(stream), input)
                    .await
                    .map_err(field_message)?;
            let base = crate::public_url(config.http.public_url.as_deref(), config.addr)?;
            let url = embed::widget_url(&base, Widget::Stats, &key);
            let snippet = embed::snippet(&base, &key, info.can_send);
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "id": info.id, "key": key, "url": url, "snippet": snippet })
                );
            } else {
                println!(
                    "created embed key {} ({})\nkey: {key}\nurl: {url}\n\n{snippet}",
                    info.name, info.id
                );
            }
        }
        Command::Whatsapp(WhatsappCommand::Requests { json }) => {
            let (db, _) = crate::open_database(&config).await?;
            let requests = access::store::requests(&db).await?;
            if json {
                println!("{}", serde_json::to_string(&requests)?);
            } else if requests.is_empty() {
                println!("no account asked for WhatsApp streams");
            } else {
                for request in requests {
                    let state = match request.granted_at {
                        Some(at) => format!("granted {}", app::time::short_utc(at)),
                        None => "waiting".into(),
                    };
                    println!(
                        "{} ({}, {}): asked {}, {state}",
                        request.email,
                        request.account_name,
                        request.account_id,
                        app::time::short_utc(request.requested_at)
                    );
                }
            }
        }
        Command::Whatsapp(WhatsappCommand::Grant { email }) => {
            let (db, _, account_id) = owners_account(&config, &email).await?;
            access::store::grant(&db, &account_id).await?;
            println!("the account of {email} may create WhatsApp streams");
        }
        Command::Embed(EmbedCommand::Revoke { email, key }) => {
            let (db, _, account_id) = owners_account(&config, &email).await?;
            let key = key.trim();
            let id;
            let which = if key.starts_with(EmbedKeyId::PREFIX) {
                id = EmbedKeyId::from(key);
                embed::store::KeyRef::Id(&id)
            } else {
                embed::store::KeyRef::Key(key)
            };
            embed::store::revoke(&db, &account_id, which)
                .await
                .map_err(|error| match error {
                    streams::store::StreamError::NotFound => {
                        format!("no embed key {key} in the account of {email}")
                    }
                    other => other.to_string(),
                })?;
            println!("revoked embed key {key}");
        }
        Command::Connection(ConnectionCommand::Add {
            email,
            name,
            settings,
            secret,
            default,
            json,
        }) => {
            let settings: ConnectionSettings = serde_json::from_str(&settings)
                .map_err(|error| format!("--settings is not a connection's settings: {error}"))?;
            let (db, key, account_id) = owners_account(&config, &email).await?;
            let egress = app::egress::Egress {
                allow_private: config.webhooks.allow_private,
            };
            settings
                .check_egress(egress)
                .await
                .map_err(|field| field.message)?;
            let input = ConnectionInput {
                name,
                settings,
                secret,
                is_default: default,
            };
            let saved = app::connections::store::save(&db, &key, &account_id, None, input).await?;
            if json {
                println!("{}", serde_json::json!({ "id": saved.id }));
            } else {
                let default = if saved.is_default {
                    ", the default"
                } else {
                    ""
                };
                println!(
                    "added connection {} ({}{default}): {}",
                    saved.name,
                    saved.id,
                    saved.settings.summary()
                );
            }
        }
    }
    Ok(())
}
