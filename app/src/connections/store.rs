//! Connections in the database. Every console query is scoped by account; the channel's
//! look-ups go by the id a queued message carries.

use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::{Connection, ConnectionInput, ConnectionSettings, Health, HttpSettings};
use crate::{
    crypto::{Place, SecretKey},
    db::{Db, is_unique_violation, new_id, now_ms},
    ids::{AccountId, StreamId},
    streams::{FieldError, StreamKind, store::StreamError},
};

const COLUMNS: &str = "id, name, settings, secret_sealed, is_default, health, health_detail,
    health_at, created_at";

fn from_row(row: &AnyRow) -> Connection {
    Connection {
        id: row.get("id"),
        name: row.get("name"),
        settings: serde_json::from_str(row.get("settings")).unwrap_or_default(),
        has_secret: row.get::<Option<String>, _>("secret_sealed").is_some(),
        is_default: row.get::<i64, _>("is_default") != 0,
        health: Health::parse(row.get("health")),
        health_detail: row.get("health_detail"),
        health_at: row.get("health_at"),
        created_at: row.get("created_at"),
    }
}

/// The account's connections, the default first.
pub async fn list(db: &Db, account_id: &AccountId) -> Result<Vec<Connection>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from connections where account_id = $1
         order by is_default desc, name"
    ))
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

fn name_taken() -> StreamError {
    StreamError::Invalid(FieldError::new(
        "name",
        "name_taken",
        "Another connection already has this name.",
    ))
}

/// Adds a connection (`id: None`) or replaces one; the first connection, or one saved as
/// default, becomes the account's default.
pub async fn save(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    id: Option<&str>,
    input: ConnectionInput,
) -> Result<Connection, StreamError> {
    let input = input.validate()?;
    let settings = serde_json::to_string(&input.settings).unwrap_or_default();
    let row_id = id.map_or_else(|| new_id("conn"), str::to_string);
    let sealed = input
        .secret
        .as_ref()
        .map(|s| key.seal(s.as_bytes(), secret_place(&row_id)));
    let now = now_ms();
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let others: i64 =
        sqlx::query_scalar("select count(*) from connections where account_id = $1 and id <> $2")
            .bind(account_id)
            .bind(id.unwrap_or_default())
            .fetch_one(&mut *tx)
            .await?;
    let is_default = input.is_default || others == 0;
    if is_default {
        sqlx::query("update connections set is_default = 0 where account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
    }
    let written = match id {
        None => {
            let id = row_id;
            sqlx::query(
                "insert into connections (id, account_id, name, kind, settings, secret_sealed,
                     is_default, created_at, updated_at)
                 values ($1, $2, $3, $8, $4, $5, $6, $7, $7)",
            )
            .bind(&id)
            .bind(account_id)
            .bind(&input.name)
            .bind(&settings)
            .bind(&sealed)
            .bind(i64::from(is_default))
            .bind(now)
            .bind(input.settings.kind())
            .execute(&mut *tx)
            .await
            .map(|_| id)
        }
        Some(id) => sqlx::query(
            "update connections set name = $1, settings = $2,
                 secret_sealed = coalesce($3, secret_sealed), is_default = $4, updated_at = $5,
                 kind = $8
             where account_id = $6 and id = $7",
        )
        .bind(&input.name)
        .bind(&settings)
        .bind(&sealed)
        .bind(i64::from(is_default))
        .bind(now)
        .bind(account_id)
        .bind(id)
        .bind(input.settings.kind())
        .execute(&mut *tx)
        .await
        .and_then(|done| {
            if done.rows_affected() == 0 {
                Err(sqlx::Error::RowNotFound)
            } else {
                Ok(id.to_string())
            }
        }),
    };
    let id = match written {
        Ok(id) => id,
        Err(sqlx::Error::RowNotFound) => return Err(StreamError::NotFound),
        Err(error) if is_unique_violation(&error) => return Err(name_taken()),
        Err(error) => return Err(error.into()),
    };
    ensure_default(&mut tx, account_id).await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("select {COLUMNS} from connections where id = $1"))
        .bind(&id)
        .fetch_one(db.pool())
        .await?;
    Ok(from_row(&row))
}

/// Deletes a connection; streams that chose it fall back to the default, and if it was the
/// default, the oldest remaining connection takes its place.
pub async fn delete(db: &Db, account_id: &AccountId, id: &str) -> Result<(), StreamError> {
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let deleted = sqlx::query("delete from connections where account_id = $1 and id = $2")
        .bind(account_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    sqlx::query("update streams set connection_id = null where connection_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    ensure_default(&mut tx, account_id).await?;
    tx.commit().await?;
    db.changes().config(account_id).await;
    Ok(())
}

/// Makes the oldest connection the default when the account has connections but no default.
async fn ensure_default(
    tx: &mut Transaction<'_, Any>,
    account_id: &AccountId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update connections set is_default = 1
         where id = (select id from connections where account_id = $1
                     order by created_at, id limit 1)
           and not exists (select 1 from connections where account_id = $1 and is_default = 1)",
    )
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Chooses the connection a stream's SMS go through (`None`: the account's default).
pub async fn set_stream_connection(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    connection_id: Option<&str>,
) -> Result<(), StreamError> {
    let kind = crate::streams::settings_store::owned(db, account_id, stream_id, None).await?;
    if kind == StreamKind::Whatsapp {
        return Err(StreamError::WrongKind(
            "WhatsApp streams send through the WhatsApp Cloud API, not an SMS connection.",
        ));
    }
    if let Some(connection_id) = connection_id {
        let known: Option<String> =
            sqlx::query_scalar("select id from connections where account_id = $1 and id = $2")
                .bind(account_id)
                .bind(connection_id)
                .fetch_optional(db.pool())
                .await?;
        if known.is_none() {
            return Err(StreamError::Invalid(FieldError::new(
                "connection_id",
                "unknown_connection",
                "Choose one of this account's connections.",
            )));
        }
    }
    sqlx::query("update streams set connection_id = $1, updated_at = $2 where id = $3")
        .bind(connection_id)
        .bind(now_ms())
        .bind(stream_id)
        .execute(db.pool())
        .await?;
    db.changes().config(account_id).await;
    Ok(())
}

/// The connection of account `$1` a stream goes through: the one it chose (`$2`), else the
/// account's default.
const ROUTED: &str = "account_id = $1 and (id = $2 or ($2 is null and is_default = 1))";

/// The connection a stream's SMS go through, the one it chose or else the account's default:
/// its id and kind.
pub async fn route(
    db: &Db,
    account_id: &AccountId,
    chosen: Option<&str>,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(&format!("select id, kind from connections where {ROUTED}"))
        .bind(account_id)
        .bind(chosen)
        .fetch_optional(db.pool())
        .await
}

/// What a channel needs to send through a connection: its settings and decrypted secret.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub id: String,
    pub account_id: String,
    pub settings: ConnectionSettings,
    pub secret: Option<String>,
}

/// Where a connection's secret is sealed.
fn secret_place(id: &str) -> Place<'_> {
    Place::new("connections", "secret_sealed", id)
}

/// A connection by id, for the channel; `None` once deleted.
pub async fn upstream(db: &Db, key: &SecretKey, id: &str) -> Result<Option<Upstream>, StreamError> {
    let row =
        sqlx::query("select account_id, settings, secret_sealed from connections where id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    let Some(row) = row else { return Ok(None) };
    let secret = row
        .get::<Option<String>, _>("secret_sealed")
        .map(|sealed| key.open_text(&sealed, secret_place(id)))
        .transpose()?;
    Ok(Some(Upstream {
        id: id.to_string(),
        account_id: row.get("account_id"),
        settings: serde_json::from_str(row.get("settings")).unwrap_or_default(),
        secret,
    }))
}

/// The inbound fields of the connection a stream's SMS go through, for `/inbound/sms/`.
pub async fn inbound_settings(
    db: &Db,
    account_id: &AccountId,
    chosen: Option<&str>,
) -> Result<HttpSettings, sqlx::Error> {
    let settings: Option<String> =
        sqlx::query_scalar(&format!("select settings from connections where {ROUTED}"))
            .bind(account_id)
            .bind(chosen)
            .fetch_optional(db.pool())
            .await?;
    match settings.and_then(|s| serde_json::from_str(&s).ok()) {
        Some(ConnectionSettings::Http(http)) => Ok(*http),
        _ => Ok(HttpSettings::default()),
    }
}

/// The SMPP connections with streams that may use them, so their sessions are opened at
/// start-up and receipts and replies arrive without waiting for a first send.
pub async fn smpp_ids(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select id from connections where kind = 'smpp' order by created_at")
        .fetch_all(db.pool())
        .await
}

/// The stream an inbound SMS over a connection belongs to: among the account's Two-way streams
/// routed through it (chosen, or by default), the one whose default sender is the number
/// written to, else the most recently active.
pub async fn inbound_stream(
    db: &Db,
    connection_id: &str,
    to: &str,
) -> Result<Option<(AccountId, StreamId)>, sqlx::Error> {
    sqlx::query_as(
        "select s.account_id, s.id from streams s
         join connections c on c.account_id = s.account_id and c.id = $1
         left join sender_ids d on d.id = s.default_sender_id
         where s.kind = 'sms_two_way' and s.status <> 'draft' and s.demo = 0
           and (s.connection_id = c.id or (s.connection_id is null and c.is_default = 1))
         order by case when d.value = $2 then 0 else 1 end,
                  coalesce(s.last_activity_at, s.created_at) desc
         limit 1",
    )
    .bind(connection_id)
    .bind(to)
    .fetch_optional(db.pool())
    .await
}

/// Records what a call through the connection saw.
pub async fn record_health(
    db: &Db,
    id: &str,
    health: Health,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update connections set health = $1, health_detail = $2, health_at = $3 where id = $4",
    )
    .bind(health.as_str())
    .bind(detail)
    .bind(now_ms())
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}
