//! Streams in the database. Every query is scoped by account.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction, any::AnyRow};

use super::{
    FieldError, MAX_COUNTRIES, MAX_RATE, SenderId, Stream, StreamFilter, StreamInput, StreamKind,
    StreamName, StreamPage, StreamStatus, parse_cidr, parse_country, parse_description, parse_tag,
};
use crate::{
    crypto::{Place, SecretKey, random_token, sha256_hex},
    db::{Db, is_unique_violation, new_id, now_ms, placeholders},
    ids::{AccountId, StreamId},
};

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("no such stream")]
    NotFound,
    #[error("a draft stream cannot be {0}; finish it first")]
    Draft(&'static str),
    #[error("{0}")]
    WrongKind(&'static str),
    #[error("stored secret unreadable: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A stream's fields after validation.
struct ValidInput {
    name: StreamName,
    description: String,
    demo: bool,
    demo_predictable: bool,
    ip_acl_enabled: bool,
    allowed_ips: Vec<String>,
    tags: Vec<String>,
    default_sender: Option<SenderId>,
    max_rate: Option<i64>,
    /// Comma-separated calling codes, as stored.
    allowed_countries: String,
}

/// The most IP ACL entries and tags a stream may have.
const MAX_ALLOWED_IPS: usize = 100;
const MAX_TAGS: usize = 20;

impl ValidInput {
    /// The destination countries, normalised, each once.
    fn countries(input: &StreamInput) -> Result<Vec<String>, FieldError> {
        if input.allowed_countries.len() > MAX_COUNTRIES {
            return Err(FieldError::new(
                "allowed_countries",
                "too_many_countries",
                format!("List at most {MAX_COUNTRIES} countries, or none for every country."),
            ));
        }
        let mut countries: Vec<String> = Vec::new();
        for country in input
            .allowed_countries
            .iter()
            .filter(|c| !c.trim().is_empty())
        {
            let country = parse_country(country)?;
            if !countries.contains(&country) {
                countries.push(country);
            }
        }
        Ok(countries)
    }

    /// Checks fields in the order the form shows them, so the first error is the topmost.
    fn parse(input: &StreamInput) -> Result<Self, FieldError> {
        let name = StreamName::parse(&input.name)?;
        let description = parse_description(&input.description)?;
        if input.allowed_ips.len() > MAX_ALLOWED_IPS {
            return Err(FieldError::new(
                "allowed_ips",
                "too_many_ips",
                format!(
                    "List at most {MAX_ALLOWED_IPS} addresses or ranges; use ranges to cover more."
                ),
            ));
        }
        if input.tags.len() > MAX_TAGS {
            return Err(FieldError::new(
                "tags",
                "too_many_tags",
                format!("Use at most {MAX_TAGS} tags."),
            ));
        }
        let mut allowed_ips = Vec::new();
        for entry in input.allowed_ips.iter().filter(|e| !e.trim().is_empty()) {
            let net = parse_cidr(entry)?.to_string();
            if !allowed_ips.contains(&net) {
                allowed_ips.push(net);
            }
        }
        let mut tags = Vec::new();
        for tag in input.tags.iter().filter(|t| !t.trim().is_empty()) {
            let tag = parse_tag(tag)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let allowed_countries = Self::countries(input)?;
        if input.ip_acl_enabled && allowed_ips.is_empty() {
            return Err(FieldError {
                field: "allowed_ips",
                code: "ip_required",
                message: "Add at least one IP address, or turn the IP ACL off.".into(),
            });
        }
        Ok(Self {
            name,
            description,
            demo: input.demo,
            // Only a demo stream has outcomes to choose.
            demo_predictable: input.demo && input.demo_predictable,
            ip_acl_enabled: input.ip_acl_enabled,
            allowed_ips,
            tags,
            default_sender: input
                .default_sender
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(SenderId::parse)
                .transpose()?,
            max_rate: match input.max_rate {
                None => None,
                Some(rate @ 1..=MAX_RATE) => Some(i64::from(rate)),
                Some(_) => {
                    return Err(FieldError {
                        field: "max_rate",
                        code: "invalid_max_rate",
                        message: format!(
                            "Enter a whole number of messages per second from 1 to {MAX_RATE}, or leave it empty for no limit."
                        ),
                    });
                }
            },
            allowed_countries: allowed_countries.join(","),
        })
    }
}

/// Creates a stream (a draft when `draft`), returning it and its new token.
pub async fn create(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    kind: StreamKind,
    input: &StreamInput,
    draft: bool,
) -> Result<(Stream, String), StreamError> {
    let valid = ValidInput::parse(input)?;
    let status = if draft {
        StreamStatus::Draft
    } else {
        StreamStatus::Ready
    };
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let (id, token) = insert(&mut tx, key, account_id, kind, &valid, status, now_ms()).await?;
    tx.commit().await?;

    let stream = get(db, account_id, &id)
        .await?
        .ok_or(StreamError::NotFound)?;
    Ok((stream, token))
}

/// The streams a new account starts with, ready to send: a demo Marketing and a demo
/// Transactional stream, each with its token (renamable and deletable like any other).
pub const STARTERS: [(&str, StreamKind); 2] = [
    ("Default Marketing", StreamKind::SmsMarketing),
    ("Default Transactional", StreamKind::SmsTransactional),
];

/// Makes the [`STARTERS`] of a new account, inside the transaction that opens it; the newest
/// first in the table is the Marketing one.
pub async fn create_starters(
    tx: &mut Transaction<'_, Any>,
    key: &SecretKey,
    account_id: &AccountId,
    now: i64,
) -> Result<(), StreamError> {
    for (n, (name, kind)) in STARTERS.into_iter().rev().enumerate() {
        let input = StreamInput {
            name: name.into(),
            demo: true,
            ..StreamInput::default()
        };
        let valid = ValidInput::parse(&input)?;
        let at = now + i64::try_from(n).unwrap_or(0);
        insert(tx, key, account_id, kind, &valid, StreamStatus::Ready, at).await?;
    }
    Ok(())
}

/// Inserts a stream with a new token; answers its id and the token.
async fn insert(
    tx: &mut Transaction<'_, Any>,
    key: &SecretKey,
    account_id: &AccountId,
    kind: StreamKind,
    valid: &ValidInput,
    status: StreamStatus,
    now: i64,
) -> Result<(StreamId, String), StreamError> {
    let id = StreamId::generate();
    let token = random_token();
    let sender_id = match &valid.default_sender {
        Some(sender) => Some(ensure_sender_id(tx, account_id, sender).await?),
        None => None,
    };
    sqlx::query(
        "insert into streams (id, account_id, name, description, kind, status, wizard_step,
             restricted, demo, ip_acl_enabled, default_sender_id, token_sealed, token_hash,
             created_at, updated_at, max_rate, inbound_key_sealed, allowed_countries,
             demo_predictable)
         values ($1, $2, $3, $4, $5, $6, 'details', 0, $7, $8, $9, $10, $11, $12, $12, $13, $14,
             $15, $16)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(valid.name.as_str())
    .bind(&valid.description)
    .bind(kind.as_str())
    .bind(status.as_str())
    .bind(flag(valid.demo))
    .bind(flag(valid.ip_acl_enabled))
    .bind(sender_id)
    .bind(key.seal(token.as_bytes(), token_place(&id)))
    .bind(sha256_hex(&token))
    .bind(now)
    .bind(valid.max_rate)
    .bind(key.seal(random_token().as_bytes(), inbound_key_place(&id)))
    .bind(&valid.allowed_countries)
    .bind(flag(valid.demo_predictable))
    .execute(&mut **tx)
    .await?;
    write_tags_and_ips(tx, account_id, &id, valid).await?;
    Ok((id, token))
}

/// Remembers the wizard step a draft was left at.
pub async fn set_wizard_step(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
    step: &str,
) -> Result<(), StreamError> {
    let step = match step {
        "details" | "otp" | "whatsapp" | "webhook" | "summary" => step,
        _ => {
            return Err(FieldError {
                field: "step",
                code: "invalid_step",
                message: format!("`{step}` is not a wizard step."),
            }
            .into());
        }
    };
    let updated =
        sqlx::query("update streams set wizard_step = $1 where account_id = $2 and id = $3")
            .bind(step)
            .bind(account_id)
            .bind(id)
            .execute(db.pool())
            .await?;
    if updated.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    Ok(())
}

/// Turns a draft into a ready stream (the wizard's *Create Stream*).
pub async fn finish(db: &Db, account_id: &AccountId, id: &StreamId) -> Result<Stream, StreamError> {
    sqlx::query(
        "update streams set status = $1, updated_at = $2
         where account_id = $3 and id = $4 and status = $5",
    )
    .bind(StreamStatus::Ready.as_str())
    .bind(now_ms())
    .bind(account_id)
    .bind(id)
    .bind(StreamStatus::Draft.as_str())
    .execute(db.pool())
    .await?;
    db.changes().config(account_id).await;
    get(db, account_id, id).await?.ok_or(StreamError::NotFound)
}

/// Replaces a stream's details (the wizard's Details step in edit mode, or the Info tab).
pub async fn update(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
    input: &StreamInput,
) -> Result<Stream, StreamError> {
    let valid = ValidInput::parse(input)?;
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let sender_id = match &valid.default_sender {
        Some(sender) => Some(ensure_sender_id(&mut tx, account_id, sender).await?),
        None => None,
    };
    let updated = sqlx::query(
        "update streams set name = $1, description = $2, demo = $3, ip_acl_enabled = $4,
             default_sender_id = $5, updated_at = $6, max_rate = $9, allowed_countries = $10,
             demo_predictable = $11
         where id = $7 and account_id = $8",
    )
    .bind(valid.name.as_str())
    .bind(&valid.description)
    .bind(flag(valid.demo))
    .bind(flag(valid.ip_acl_enabled))
    .bind(sender_id)
    .bind(now_ms())
    .bind(id)
    .bind(account_id)
    .bind(valid.max_rate)
    .bind(&valid.allowed_countries)
    .bind(flag(valid.demo_predictable))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    sqlx::query("delete from stream_tags where stream_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from stream_ips where stream_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    write_tags_and_ips(&mut tx, account_id, id, &valid).await?;
    tx.commit().await?;
    db.changes().config(account_id).await;
    get(db, account_id, id).await?.ok_or(StreamError::NotFound)
}

async fn write_tags_and_ips(
    tx: &mut Transaction<'_, Any>,
    account_id: &AccountId,
    stream_id: &StreamId,
    valid: &ValidInput,
) -> Result<(), sqlx::Error> {
    for tag in &valid.tags {
        sqlx::query(
            "insert into tags (id, account_id, name) values ($1, $2, $3)
             on conflict (account_id, name) do nothing",
        )
        .bind(new_id("tag"))
        .bind(account_id)
        .bind(tag)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "insert into stream_tags (stream_id, tag_id)
             select $1, id from tags where account_id = $2 and name = $3",
        )
        .bind(stream_id)
        .bind(account_id)
        .bind(tag)
        .execute(&mut **tx)
        .await?;
    }
    for cidr in &valid.allowed_ips {
        sqlx::query("insert into stream_ips (stream_id, cidr) values ($1, $2)")
            .bind(stream_id)
            .bind(cidr)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The id of the account's sender ID `value`, adding it when new.
async fn ensure_sender_id(
    tx: &mut Transaction<'_, Any>,
    account_id: &AccountId,
    sender: &SenderId,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "insert into sender_ids (id, account_id, value, created_at) values ($1, $2, $3, $4)
         on conflict (account_id, value) do nothing",
    )
    .bind(new_id("snd"))
    .bind(account_id)
    .bind(sender.as_str())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    sqlx::query_scalar("select id from sender_ids where account_id = $1 and value = $2")
        .bind(account_id)
        .bind(sender.as_str())
        .fetch_one(&mut **tx)
        .await
}

/// How a flag is stored: 0 or 1.
fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// A ready stream with messages on their way shows as Sending.
const EFFECTIVE_STATUS: &str = "case when s.status = 'ready' and exists (
        select 1 from messages m where m.stream_id = s.id and m.next_at is not null)
    then 'sending' else s.status end";

fn stream_columns() -> String {
    format!(
        "s.id, s.name, s.description, s.kind, {EFFECTIVE_STATUS} as status, s.wizard_step,
         s.restricted, s.demo, s.demo_predictable, s.ip_acl_enabled, d.value as default_sender, s.max_rate,
         s.connection_id, s.allowed_countries, s.created_at, s.updated_at, s.last_activity_at"
    )
}

/// One stream of the account.
pub async fn get(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
) -> Result<Option<Stream>, sqlx::Error> {
    let sql = format!(
        "select {} from streams s
         left join sender_ids d on d.id = s.default_sender_id
         where s.account_id = $1 and s.id = $2",
        stream_columns()
    );
    let row = sqlx::query(&sql)
        .bind(account_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(with_tags_and_ips(db, vec![stream_from_row(&row)])
        .await?
        .pop())
}

/// The account's streams matching `filter`, newest first, one page of them.
pub async fn list(
    db: &Db,
    account_id: &AccountId,
    filter: &StreamFilter,
) -> Result<StreamPage, sqlx::Error> {
    let per_page = filter.per_page.clamp(1, 100) as i64;
    let page = filter.page.max(1) as i64;
    let name = filter.name.trim().to_lowercase();
    let pattern = format!(
        "%{}%",
        name.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let status = filter.status.map(|s| s.as_str()).unwrap_or_default();
    let tag = filter.tag.trim();
    let matching = format!(
        "from streams s
         left join sender_ids d on d.id = s.default_sender_id
         where s.account_id = $1
           and ($2 = '' or lower(s.name) like $3 escape '\\')
           and ($4 = '' or {EFFECTIVE_STATUS} = $4)
           and ($5 = '' or exists (
                 select 1 from stream_tags st join tags t on t.id = st.tag_id
                 where st.stream_id = s.id and t.name = $5))"
    );

    let total: i64 = sqlx::query_scalar(&format!("select count(*) {matching}"))
        .bind(account_id)
        .bind(&name)
        .bind(&pattern)
        .bind(status)
        .bind(tag)
        .fetch_one(db.pool())
        .await?;
    let rows = sqlx::query(&format!(
        "select {} {matching}
         order by s.created_at desc, s.id desc limit $6 offset $7",
        stream_columns()
    ))
    .bind(account_id)
    .bind(&name)
    .bind(&pattern)
    .bind(status)
    .bind(tag)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(db.pool())
    .await?;
    let streams = with_tags_and_ips(db, rows.iter().map(stream_from_row).collect()).await?;
    Ok(StreamPage { total, streams })
}

fn stream_from_row(row: &AnyRow) -> Stream {
    Stream {
        id: row.get("id"),
        name: row.get("name"),
        description: row.get("description"),
        kind: row
            .get::<String, _>("kind")
            .parse()
            .unwrap_or(StreamKind::SmsMarketing),
        status: row
            .get::<String, _>("status")
            .parse()
            .unwrap_or(StreamStatus::Draft),
        restricted: row.get::<i64, _>("restricted") != 0,
        demo: row.get::<i64, _>("demo") != 0,
        demo_predictable: row.get::<i64, _>("demo_predictable") != 0,
        ip_acl_enabled: row.get::<i64, _>("ip_acl_enabled") != 0,
        allowed_ips: Vec::new(),
        tags: Vec::new(),
        default_sender: row.get("default_sender"),
        max_rate: row
            .get::<Option<i64>, _>("max_rate")
            .and_then(|rate| u32::try_from(rate).ok()),
        connection_id: row.get("connection_id"),
        allowed_countries: row
            .get::<String, _>("allowed_countries")
            .split(',')
            .filter(|country| !country.is_empty())
            .map(str::to_string)
            .collect(),
        wizard_step: row.get("wizard_step"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        last_activity_at: row.get("last_activity_at"),
    }
}

/// Fills in the tags and allowed IPs of `streams` with two queries.
async fn with_tags_and_ips(db: &Db, mut streams: Vec<Stream>) -> Result<Vec<Stream>, sqlx::Error> {
    if streams.is_empty() {
        return Ok(streams);
    }
    let placeholders = placeholders(1, streams.len());
    let lists = [
        format!(
            "select st.stream_id, t.name as item from stream_tags st join tags t on t.id = st.tag_id
             where st.stream_id in ({placeholders}) order by t.name"
        ),
        format!(
            "select stream_id, cidr as item from stream_ips
             where stream_id in ({placeholders}) order by cidr"
        ),
    ];
    let mut found: [HashMap<StreamId, Vec<String>>; 2] = Default::default();
    for (sql, into) in lists.iter().zip(found.iter_mut()) {
        let mut query = sqlx::query(sql);
        for stream in &streams {
            query = query.bind(stream.id.clone());
        }
        for row in query.fetch_all(db.pool()).await? {
            into.entry(row.get("stream_id"))
                .or_default()
                .push(row.get("item"));
        }
    }
    let [mut tags, mut ips] = found;
    for stream in &mut streams {
        stream.tags = tags.remove(&stream.id).unwrap_or_default();
        stream.allowed_ips = ips.remove(&stream.id).unwrap_or_default();
    }
    Ok(streams)
}

/// The stream's token, decrypted for *Show token*.
pub async fn reveal_token(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    id: &StreamId,
) -> Result<String, StreamError> {
    let sealed: Option<String> =
        sqlx::query_scalar("select token_sealed from streams where account_id = $1 and id = $2")
            .bind(account_id)
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    let sealed = sealed.ok_or(StreamError::NotFound)?;
    Ok(key.open_text(&sealed, token_place(id))?)
}

/// Where a stream's token is sealed.
fn token_place(id: &str) -> Place<'_> {
    Place::new("streams", "token_sealed", id)
}

/// Replaces the stream's token; the old one stops working at once.
pub async fn reset_token(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    id: &StreamId,
) -> Result<String, StreamError> {
    let token = random_token();
    let updated = sqlx::query(
        "update streams set token_sealed = $1, token_hash = $2, updated_at = $3
         where account_id = $4 and id = $5",
    )
    .bind(key.seal(token.as_bytes(), token_place(id)))
    .bind(sha256_hex(&token))
    .bind(now_ms())
    .bind(account_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    one_stream(updated.rows_affected())?;
    db.changes().config(account_id).await;
    Ok(token)
}

/// An update's count of changed streams: none means the account has no such stream.
fn one_stream(changed: u64) -> Result<(), StreamError> {
    if changed == 0 {
        Err(StreamError::NotFound)
    } else {
        Ok(())
    }
}

/// Sets the calling codes the stream may send to (none: every country); answers them as
/// stored.
pub async fn set_countries(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
    countries: &[String],
) -> Result<Vec<String>, StreamError> {
    let input = StreamInput {
        allowed_countries: countries.to_vec(),
        ..StreamInput::default()
    };
    let stored = ValidInput::countries(&input)?;
    let updated = sqlx::query(
        "update streams set allowed_countries = $1, updated_at = $2
         where account_id = $3 and id = $4",
    )
    .bind(stored.join(","))
    .bind(now_ms())
    .bind(account_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    one_stream(updated.rows_affected())?;
    db.changes().config(account_id).await;
    Ok(stored)
}

/// Where a stream's inbound key is sealed.
fn inbound_key_place(id: &str) -> Place<'_> {
    Place::new("streams", "inbound_key_sealed", id)
}

/// The key an SMS provider passes (`?key=` or `X-Sluice-Key`) when it calls the stream's
/// inbound address; `None` for no such stream.
pub async fn inbound_key(
    db: &Db,
    key: &SecretKey,
    id: &StreamId,
) -> Result<Option<String>, StreamError> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("select inbound_key_sealed from streams where id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    let Some(Some(sealed)) = sealed else {
        return Ok(None);
    };
    Ok(Some(key.open_text(&sealed, inbound_key_place(id))?))
}

/// Gives the stream a new random inbound key; calls with the old one are refused at once.
pub async fn rotate_inbound_key(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    id: &StreamId,
) -> Result<String, StreamError> {
    let fresh = random_token();
    let updated = sqlx::query(
        "update streams set inbound_key_sealed = $1, updated_at = $2
         where account_id = $3 and id = $4",
    )
    .bind(key.seal(fresh.as_bytes(), inbound_key_place(id)))
    .bind(now_ms())
    .bind(account_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    one_stream(updated.rows_affected())?;
    Ok(fresh)
}

/// Gives streams from before inbound keys were stored the key their providers were given
/// (derived from the server's key); answers how many.
pub async fn keep_derived_inbound_keys(db: &Db, key: &SecretKey) -> Result<u64, sqlx::Error> {
    let ids: Vec<String> =
        sqlx::query_scalar("select id from streams where inbound_key_sealed is null")
            .fetch_all(db.pool())
            .await?;
    for id in &ids {
        let derived = key.derive("inbound-sms", id);
        sqlx::query("update streams set inbound_key_sealed = $1 where id = $2 and inbound_key_sealed is null")
            .bind(key.seal(derived.as_bytes(), inbound_key_place(id)))
            .bind(id)
            .execute(db.pool())
            .await?;
    }
    Ok(ids.len() as u64)
}

/// Streams the API recently found by token, so that a busy client's requests skip the
/// look-up. Every configuration change, in this process or another on the same database,
/// empties it ([`Changes`](crate::changes::Changes)); an entry also expires after
/// [`TOKEN_TTL`], a bound should a change ever go unheard.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<HashMap<String, (std::time::Instant, AccountId, Stream)>>,
}

const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(30);
/// Past this many entries the cache starts again empty.
const TOKEN_CACHE_SIZE: usize = 10_000;

impl TokenCache {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (std::time::Instant, AccountId, Stream)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, hash: &str) -> Option<(AccountId, Stream)> {
        let entries = self.lock();
        let (at, account_id, stream) = entries.get(hash)?;
        (at.elapsed() < TOKEN_TTL).then(|| (account_id.clone(), stream.clone()))
    }

    fn put(&self, hash: String, account_id: &AccountId, stream: &Stream) {
        let mut entries = self.lock();
        if entries.len() >= TOKEN_CACHE_SIZE {
            entries.clear();
        }
        entries.insert(
            hash,
            (
                std::time::Instant::now(),
                account_id.clone(),
                stream.clone(),
            ),
        );
    }

    /// Forgets every entry: a stream changed.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// The stream a token belongs to, whichever account owns it, for the API: without its tags.
pub async fn find_by_token(
    db: &Db,
    token: &str,
) -> Result<Option<(AccountId, Stream)>, sqlx::Error> {
    // One look-up by the hash, on the API's hot path, rather than an id look-up and a `get`.
    let sql = format!(
        "select s.account_id, {} from streams s
         left join sender_ids d on d.id = s.default_sender_id
         where s.token_hash = $1",
        stream_columns()
    );
    let hash = sha256_hex(token);
    if let Some(found) = db.tokens().and_then(|tokens| tokens.get(&hash)) {
        return Ok(Some(found));
    }
    let row = sqlx::query(&sql)
        .bind(&hash)
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut stream = stream_from_row(&row);
    // The API needs the allow-list only when it is on, and never the tags: they stay empty.
    if stream.ip_acl_enabled {
        stream.allowed_ips =
            sqlx::query_scalar("select cidr from stream_ips where stream_id = $1 order by cidr")
                .bind(&stream.id)
                .fetch_all(db.pool())
                .await?;
    }
    let account_id: AccountId = row.get("account_id");
    if let Some(tokens) = db.tokens() {
        tokens.put(hash, &account_id, &stream);
    }
    Ok(Some((account_id, stream)))
}

/// A stream and its account by the stream's id alone, for upstream callbacks that name it in
/// their URL (and prove themselves with a key derived from it): without tags or IPs.
pub async fn find_by_id(
    db: &Db,
    id: &StreamId,
) -> Result<Option<(AccountId, Stream)>, sqlx::Error> {
    let sql = format!(
        "select s.account_id, {} from streams s
         left join sender_ids d on d.id = s.default_sender_id
         where s.id = $1",
        stream_columns()
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await?;
    Ok(row.map(|row| (row.get("account_id"), stream_from_row(&row))))
}

/// What the delivery workers need to know of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryFacts {
    pub kind: StreamKind,
    /// Its throughput limit, in messages per second.
    pub max_rate: Option<u32>,
    /// Its demo messages are all delivered and get no random replies.
    pub demo_predictable: bool,
}

/// The [`DeliveryFacts`] of `stream_ids`, in one query for a whole claimed batch.
pub async fn delivery_facts(
    db: &Db,
    stream_ids: &[&str],
) -> Result<HashMap<String, DeliveryFacts>, sqlx::Error> {
    let mut ids: Vec<&str> = stream_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select id, kind, max_rate, demo_predictable from streams where id in ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query
        .fetch_all(db.pool())
        .await?
        .iter()
        .filter_map(|row| {
            let facts = DeliveryFacts {
                kind: row.get::<String, _>("kind").parse().ok()?,
                max_rate: row
                    .get::<Option<i64>, _>("max_rate")
                    .and_then(|rate| u32::try_from(rate).ok()),
                demo_predictable: row.get::<i64, _>("demo_predictable") != 0,
            };
            Some((row.get("id"), facts))
        })
        .collect())
}

/// Pauses (`false`) or resumes (`true`) a finished stream.
pub async fn set_enabled(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
    enabled: bool,
) -> Result<Stream, StreamError> {
    let (status, verb) = match enabled {
        true => (StreamStatus::Ready, "enabled"),
        false => (StreamStatus::Disabled, "disabled"),
    };
    ensure_finished(db, account_id, id, verb).await?;
    sqlx::query(
        "update streams set status = $1, updated_at = $2 where account_id = $3 and id = $4",
    )
    .bind(status.as_str())
    .bind(now_ms())
    .bind(account_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    db.changes().config(account_id).await;
    get(db, account_id, id).await?.ok_or(StreamError::NotFound)
}

/// Turns the test-recipients sandbox on or off.
pub async fn set_restricted(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
    restricted: bool,
) -> Result<Stream, StreamError> {
    ensure_finished(db, account_id, id, "restricted").await?;
    if restricted {
        let recipients: i64 =
            sqlx::query_scalar("select count(*) from test_recipients where stream_id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await?;
        if recipients == 0 {
            return Err(FieldError::new(
                "phone",
                "test_recipients_required",
                "Add at least one test recipient: a restricted stream sends only to them.",
            )
            .into());
        }
    }
    sqlx::query(
        "update streams set restricted = $1, updated_at = $2 where account_id = $3 and id = $4",
    )
    .bind(flag(restricted))
    .bind(now_ms())
    .bind(account_id)
    .bind(id)
    .execute(db.pool())
    .await?;
    db.changes().config(account_id).await;
    get(db, account_id, id).await?.ok_or(StreamError::NotFound)
}

/// Drafts only get Edit and Delete.
async fn ensure_finished(
    db: &Db,
    account_id: &AccountId,
    id: &StreamId,
    verb: &'static str,
) -> Result<(), StreamError> {
    match get(db, account_id, id).await? {
        None => Err(StreamError::NotFound),
        Some(stream) if stream.status == StreamStatus::Draft => Err(StreamError::Draft(verb)),
        Some(_) => Ok(()),
    }
}

/// Deletes a stream; its token stops working at once.
pub async fn delete(db: &Db, account_id: &AccountId, id: &StreamId) -> Result<(), StreamError> {
    let deleted = sqlx::query("delete from streams where account_id = $1 and id = $2")
        .bind(account_id)
        .bind(id)
        .execute(db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    db.changes().config(account_id).await;
    Ok(())
}

/// The account's tags, for the tags input and the tag filter.
pub async fn tags(db: &Db, account_id: &AccountId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select name from tags where account_id = $1 order by name")
        .bind(account_id)
        .fetch_all(db.pool())
        .await
}

/// The account's sender IDs, alphabetically.
pub async fn sender_ids(db: &Db, account_id: &AccountId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select value from sender_ids where account_id = $1 order by value")
        .bind(account_id)
        .fetch_all(db.pool())
        .await
}

/// Adds a sender ID; adding one that exists is refused.
pub async fn add_sender_id(
    db: &Db,
    account_id: &AccountId,
    value: &str,
) -> Result<String, StreamError> {
    let sender = SenderId::parse(value)?;
    let inserted = sqlx::query(
        "insert into sender_ids (id, account_id, value, created_at) values ($1, $2, $3, $4)",
    )
    .bind(new_id("snd"))
    .bind(account_id)
    .bind(sender.as_str())
    .bind(now_ms())
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => Ok(sender.as_str().to_string()),
        Err(error) if is_unique_violation(&error) => Err(FieldError {
            field: "sender",
            code: "sender_id_exists",
            message: format!("The sender ID {} already exists.", sender.as_str()),
        }
        .into()),
        Err(error) => Err(error.into()),
    }
}

/// Removes a sender ID; streams that defaulted to it become "Customized".
pub async fn delete_sender_id(
    db: &Db,
    account_id: &AccountId,
    value: &str,
) -> Result<(), StreamError> {
    let deleted = sqlx::query("delete from sender_ids where account_id = $1 and value = $2")
        .bind(account_id)
        .bind(value.trim())
        .execute(db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    db.changes().config(account_id).await;
    Ok(())
}
