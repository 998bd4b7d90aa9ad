//! Structured logs through `tracing`.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{Config, LogFormat};

pub fn init(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let filter = EnvFilter::try_new(&config.log_level)?;
    let builder = fmt().with_env_filter(filter).with_target(true);
    let result = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // A second init in the same process (tests) keeps the first subscriber.
    drop(result);
    Ok(())
}
