//! Settings in layers: defaults → config file → `SLUICE_*` environment → command-line flags.

use std::{
    fmt, fs,
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use app::{crypto::SecretKey, whatsapp::GraphConfig};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{cli::Overrides, delivery::DeliveryConfig, http::HttpConfig, webhooks::WebhookConfig};

/// The config file read when present and no --config is given.
pub const DEFAULT_CONFIG_FILE: &str = "sluice.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the console and API listen on.
    pub addr: SocketAddr,
    /// `sqlite://…` or `postgres://…`; defaults to `sqlite://<data_dir>/sluice.db`.
    pub database_url: String,
    /// SQLite only: `normal` (a killed process loses nothing; a power cut may lose the last
    /// moments' commits) or `full` (an fsync per commit: a power cut loses nothing answered).
    pub sqlite_synchronous: app::db::Synchronous,
    /// Folder for the generated secret key (and the default SQLite file).
    pub data_dir: PathBuf,
    /// 64 hex characters; when unset, read from (or generated into) `<data_dir>/secret.key`.
    pub secret_key: Option<Redacted>,
    /// Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    #[serde(deserialize_with = "list_or_comma_separated")]
    pub trusted_proxies: Vec<IpNet>,
    /// A `tracing` filter such as `info` or `sluice=debug,info`.
    pub log_level: String,
    pub log_format: LogFormat,
    /// How messages are delivered (`[delivery]`).
    pub delivery: DeliveryConfig,
    /// How customers' webhooks are called (`[webhooks]`).
    pub webhooks: WebhookConfig,
    /// Where Meta's Graph API is, for WhatsApp streams (`[whatsapp]`).
    pub whatsapp: GraphConfig,
    /// How the console and API are served (`[http]`).
    pub http: HttpConfig,
    /// How fast tokens and client networks may go (`[limits]`).
    pub limits: LimitsConfig,
    /// Which features accounts may use (`[features]`).
    pub features: FeaturesConfig,
    /// Who may read `/metrics` (`[metrics]`).
    pub metrics: MetricsConfig,
    /// How long messages keep their text and are kept (`[retention]`; 0 days: for ever).
    pub retention: app::messages::Retention,
}

/// Who may read the Prometheus metrics (`[metrics]`). Unset, `/metrics` is served nowhere.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// A scraper that sends `Authorization: Bearer <token>` reads `/metrics` on the main
    /// address.
    pub token: Option<Redacted>,
    /// An address of its own, such as `127.0.0.1:9464` on a private network, that serves
    /// `/metrics`, `/readyz` and `/healthz` to anyone who reaches it.
    pub addr: Option<SocketAddr>,
}

/// Features the operator opens, keeps behind a request, or closes (`[features]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FeaturesConfig {
    /// WhatsApp streams: `on` for every account, `request` (accounts ask in the console, the
    /// operator grants with `sluice whatsapp grant`), or `off`.
    pub whatsapp: app::streams::access::WhatsAppFeature,
}

/// Rate limits (`[limits]` in `sluice.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// API requests one stream token may make per second, sustained.
    pub api_per_second: u32,
    /// API requests one stream token may make at once before the per-second rate applies.
    pub api_burst: u32,
    /// Accounts that may be created from one client network (an IPv4 address or an IPv6
    /// /64) per hour.
    pub sign_ups_per_hour: u32,
    /// API requests one client network may have refused for an unknown token or key (401) per
    /// minute before it is paused (tokens that worked recently still go through).
    pub unknown_tokens_per_minute: u32,
    /// The longest a demo stream's test inbox holds a request that waits for a message, in
    /// seconds (at most 30); a longer `wait` is shortened to it.
    pub inbox_wait_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            api_per_second: 200,
            api_burst: 400,
            sign_ups_per_hour: 10,
            unknown_tokens_per_minute: 30,
            inbox_wait_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: String::new(),
            sqlite_synchronous: app::db::Synchronous::default(),
            data_dir: PathBuf::from("data"),
            secret_key: None,
            trusted_proxies: Vec::new(),
            log_level: "info".into(),
            log_format: LogFormat::Pretty,
            delivery: DeliveryConfig::default(),
            webhooks: WebhookConfig::default(),
            whatsapp: GraphConfig::default(),
            http: HttpConfig::default(),
            limits: LimitsConfig::default(),
            features: FeaturesConfig::default(),
            metrics: MetricsConfig::default(),
            retention: app::messages::Retention::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("the config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("the secret key: {0}")]
    SecretKey(#[from] app::crypto::CryptoError),
    #[error("the secret key file {path}: {source}")]
    SecretKeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    /// Reads every layer; the environment is the process's own.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::figment(overrides, Env::prefixed("SLUICE_").split("__"))
    }

    fn figment(overrides: &Overrides, env: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match &overrides.config {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.clone())),
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file(DEFAULT_CONFIG_FILE)),
        }
        let mut config: Config = figment
            .merge(env)
            .merge(Serialized::globals(overrides))
            .extract()
            .map_err(Box::new)?;
        if config.database_url.is_empty() {
            config.database_url =
                format!("sqlite://{}", config.data_dir.join("sluice.db").display());
        }
        Ok(config)
    }

    /// Makes the data folder (the secret key, the SQLite files) its owner's only, creating it
    /// when missing; says so in the log when it cannot.
    pub fn secure_data_dir(&self) {
        let secured = fs::create_dir_all(&self.data_dir).and_then(|()| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&self.data_dir, fs::Permissions::from_mode(0o700))?;
            }
            Ok(())
        });
        if let Err(error) = secured {
            tracing::warn!(%error, folder = %self.data_dir.display(), "the data folder could not be made private");
        }
    }

    /// The configured secret key, or the one in the data folder, generated on first use.
    pub fn secret_key(&self) -> Result<SecretKey, ConfigError> {
        if let Some(Redacted(hex)) = &self.secret_key {
            return Ok(SecretKey::from_hex(hex)?);
        }
        let path = self.data_dir.join("secret.key");
        let file_error = |source| ConfigError::SecretKeyFile {
            path: path.clone(),
            source,
        };
        match fs::read_to_string(&path) {
            Ok(text) => {
                warn_if_readable_by_others(&path);
                Ok(SecretKey::from_hex(&text)?)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SecretKey::generate();
                write_private(&path, &key.to_hex()).map_err(file_error)?;
                tracing::info!(path = %path.display(), "generated a new secret key");
                Ok(key)
            }
            Err(error) => Err(file_error(error)),
        }
    }
}

/// Logs a warning when others than the owner may read the key file.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the secret key file can be read by others than its owner: chmod 600 it"
            );
        }
    }
}

/// Writes a file only its owner can read, refusing to replace an existing one.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

/// Accepts a list (`["10.0.0.0/8"]`) or comma-separated text (`10.0.0.0/8, ::1`).
fn list_or_comma_separated<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    let items = match Raw::deserialize(deserializer)? {
        Raw::List(items) => items,
        Raw::Text(text) => text.split(',').map(str::to_string).collect(),
    };
    items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!("`{item}` is not an IP address or CIDR"))
                })
        })
        .collect()
}

// figment's `Jail` closures must return its (large) error type.
#[allow(clippy::result_large_err)]
#[cfg(test)]
mod tests {
    use figment::Jail;

    use super::*;

    #[test]
    fn defaults_serve_localhost_on_sqlite_in_the_data_folder() {
        Jail::expect_with(|_| {
            let config = Config::load(&Overrides::default()).unwrap();
            assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
            assert_eq!(config.database_url, "sqlite://data/sluice.db");
            assert_eq!(config.sqlite_synchronous, app::db::Synchronous::Normal);
            assert_eq!(config.log_format, LogFormat::Pretty);
            assert!(config.trusted_proxies.is_empty());
            Ok(())
        });
    }

    #[test]
    fn each_layer_overrides_the_one_below() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "sluice.toml",
                r#"
                    addr = "0.0.0.0:4000"
                    log_level = "debug"
                    log_format = "json"
                    database_url = "sqlite://file.db"
                "#,
            )?;
            jail.set_env("SLUICE_LOG_LEVEL", "warn");
            jail.set_env("SLUICE_DATABASE_URL", "postgres://env/db");
            jail.set_env("SLUICE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1");
            jail.set_env("SLUICE_SQLITE_SYNCHRONOUS", "full");
            let overrides = Overrides {
                database_url: Some("postgres://flag/db".into()),
                ..Overrides::default()
            };
            let config = Config::load(&overrides).unwrap();
            assert_eq!(config.addr.to_string(), "0.0.0.0:4000");
            assert_eq!(config.log_format, LogFormat::Json);
            assert_eq!(config.log_level, "warn");
            assert_eq!(config.database_url, "postgres://flag/db");
            assert_eq!(config.sqlite_synchronous, app::db::Synchronous::Full);
            assert_eq!(
                config.trusted_proxies,
                vec![
                    "10.0.0.0/8".parse::<IpNet>().unwrap(),
                    "192.168.1.1/32".parse().unwrap()
                ]
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_reported_not_ignored() {
        Jail::expect_with(|jail| {
            jail.set_env("SLUICE_TRUSTED_PROXIES", "not-an-ip");
            let error = Config::load(&Overrides::default()).unwrap_err();
            assert!(error.to_string().contains("not-an-ip"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("SLUICE_ADDR", "nowhere");
            assert!(Config::load(&Overrides::default()).is_err());
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("SLUICE_SQLITE_SYNCHRONOUS", "off");
            let error = Config::load(&Overrides::default()).unwrap_err();
            assert!(error.to_string().contains("off"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn a_named_config_file_must_exist() {
        Jail::expect_with(|_| {
            let overrides = Overrides {
                config: Some("missing.toml".into()),
                ..Overrides::default()
            };
            assert!(matches!(
                Config::load(&overrides),
                Err(ConfigError::MissingFile(_))
            ));
            Ok(())
        });
    }

    #[test]
    fn the_secret_key_is_generated_once_then_reused() {
        Jail::expect_with(|_| {
            let config = Config::load(&Overrides::default()).unwrap();
            let first = config.secret_key().unwrap();
            let second = config.secret_key().unwrap();
            assert_eq!(first.to_hex(), second.to_hex());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata("data/secret.key")
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            Ok(())
        });
    }

    #[test]
    fn delivery_settings_come_from_nested_environment_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SLUICE_DELIVERY__DEMO_DELAY_MS", "75");
            jail.set_env("SLUICE_DELIVERY__DEMO_FAILURE_RATIO", "0");
            let config = Config::load(&Overrides::default()).unwrap();
            assert_eq!(config.delivery.demo_delay_ms, 75);
            assert_eq!(config.delivery.demo_failure_ratio, 0.0);
            assert_eq!(config.delivery.workers, DeliveryConfig::default().workers);
            Ok(())
        });
    }

    #[test]
    fn the_example_file_is_read_as_it_stands_and_retention_is_off_by_default() {
        Jail::expect_with(|jail| {
            jail.create_file(
                DEFAULT_CONFIG_FILE,
                include_str!("../../sluice.example.toml"),
            )?;
            let config = Config::load(&Overrides::default()).unwrap();
            assert_eq!(config.retention, app::messages::Retention::default());
            jail.set_env("SLUICE_RETENTION__REDACT_AFTER_DAYS", "30");
            let config = Config::load(&Overrides::default()).unwrap();
            assert_eq!(config.retention.redact_after_days, 30);
            assert_eq!(config.retention.delete_after_days, 0);
            Ok(())
        });
    }

    #[test]
    fn a_configured_secret_key_wins_and_is_never_printed() {
        Jail::expect_with(|jail| {
            let hex = "11".repeat(32);
            jail.set_env("SLUICE_SECRET_KEY", &hex);
            let config = Config::load(&Overrides::default()).unwrap();
            assert_eq!(config.secret_key().unwrap().to_hex(), hex);
            assert!(!format!("{config:?}").contains(&hex));
            Ok(())
        });
    }
}
