//! Type-specific settings in the database. Every function first checks that the stream belongs
//! to the account and is of a type that has the setting.

use sqlx::Row;

use super::{
    FieldError, StreamKind,
    settings::{
        EventInput, OtpCodeSource, OtpSettings, StreamEvent, Webhook, WebhookInput, WebhookMethod,
        WhatsAppInput, WhatsAppSettings, WhatsAppTemplate, parse_phone,
    },
    store::StreamError,
};
use crate::{
    crypto::{Place, SecretKey, webhook_secret},
    db::{Db, is_unique_violation, new_id, now_ms},
    ids::{AccountId, StreamId},
};

/// Which stream types have a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Otp,
    Events,
    WhatsApp,
    Webhook,
}

impl Setting {
    pub fn applies_to(self, kind: StreamKind) -> bool {
        match self {
            Self::Otp => kind == StreamKind::SmsOtp,
            Self::Events => kind.has_events(),
            Self::WhatsApp => kind == StreamKind::Whatsapp,
            // Every stream reports its messages' progress (`message.status`).
            Self::Webhook => true,
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Self::Otp => "Only OTP streams have OTP settings.",
            Self::Events => "Only Transactional and OTP streams have events.",
            Self::WhatsApp => "Only WhatsApp streams have WhatsApp settings.",
            Self::Webhook => "Every stream has a webhook.",
        }
    }
}

/// The stream's type, if the account owns it; refused when the setting does not apply.
pub(crate) async fn owned(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    setting: Option<Setting>,
) -> Result<StreamKind, StreamError> {
    let kind: Option<String> =
        sqlx::query_scalar("select kind from streams where account_id = $1 and id = $2")
            .bind(account_id)
            .bind(stream_id)
            .fetch_optional(db.pool())
            .await?;
    let kind: StreamKind = kind
        .and_then(|kind| kind.parse().ok())
        .ok_or(StreamError::NotFound)?;
    match setting {
        Some(setting) if !setting.applies_to(kind) => {
            Err(StreamError::WrongKind(setting.refusal()))
        }
        _ => Ok(kind),
    }
}

/// The stream's OTP settings; the defaults until saved.
pub async fn otp_settings(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<OtpSettings, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Otp)).await?;
    let row = sqlx::query(
        "select code_source, code_length, ttl_seconds, max_failures, per_phone_hour,
             per_phone_day, per_stream_hour, per_range_burst, template
         from otp_settings where stream_id = $1",
    )
    .bind(stream_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(OtpSettings::default());
    };
    let number = |column: &str| u32::try_from(row.get::<i64, _>(column)).unwrap_or_default();
    Ok(OtpSettings {
        source: OtpCodeSource::parse(row.get("code_source")).unwrap_or_default(),
        code_length: number("code_length"),
        ttl_seconds: number("ttl_seconds"),
        max_failures: number("max_failures"),
        per_phone_hour: number("per_phone_hour"),
        per_phone_day: number("per_phone_day"),
        per_stream_hour: number("per_stream_hour"),
        per_range_burst: number("per_range_burst"),
        template: row.get("template"),
    })
}

pub async fn save_otp_settings(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    settings: OtpSettings,
) -> Result<OtpSettings, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Otp)).await?;
    let settings = settings.validate()?;
    sqlx::query(
        "insert into otp_settings (stream_id, code_source, code_length, ttl_seconds,
             max_failures, per_phone_hour, per_phone_day, template, updated_at,
             per_stream_hour, per_range_burst)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (stream_id) do update set code_source = excluded.code_source,
             code_length = excluded.code_length, ttl_seconds = excluded.ttl_seconds,
             max_failures = excluded.max_failures, per_phone_hour = excluded.per_phone_hour,
             per_phone_day = excluded.per_phone_day, template = excluded.template,
             updated_at = excluded.updated_at, per_stream_hour = excluded.per_stream_hour,
             per_range_burst = excluded.per_range_burst",
    )
    .bind(stream_id)
    .bind(settings.source.as_str())
    .bind(i64::from(settings.code_length))
    .bind(i64::from(settings.ttl_seconds))
    .bind(i64::from(settings.max_failures))
    .bind(i64::from(settings.per_phone_hour))
    .bind(i64::from(settings.per_phone_day))
    .bind(&settings.template)
    .bind(now_ms())
    .bind(i64::from(settings.per_stream_hour))
    .bind(i64::from(settings.per_range_burst))
    .execute(db.pool())
    .await?;
    Ok(settings)
}

/// The stream's events, by key.
pub async fn events(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<Vec<StreamEvent>, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Events)).await?;
    let rows = sqlx::query(
        "select id, event_key, body, sender, active from stream_events
         where stream_id = $1 order by event_key",
    )
    .bind(stream_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(event_from_row).collect())
}

/// The stream's event `key`, for `/event_send/` (the caller is already the stream).
pub async fn event_by_key(
    db: &Db,
    stream_id: &StreamId,
    key: &str,
) -> Result<Option<StreamEvent>, sqlx::Error> {
    let row = sqlx::query(
        "select id, event_key, body, sender, active from stream_events
         where stream_id = $1 and event_key = $2",
    )
    .bind(stream_id)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(event_from_row))
}

fn event_from_row(row: &sqlx::any::AnyRow) -> StreamEvent {
    StreamEvent {
        id: row.get("id"),
        input: EventInput {
            key: row.get("event_key"),
            body: row.get("body"),
            sender: row.get("sender"),
            active: row.get::<i64, _>("active") != 0,
        },
    }
}

/// Adds an event (`event_id` None) or replaces one.
pub async fn save_event(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    event_id: Option<&str>,
    input: EventInput,
) -> Result<StreamEvent, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Events)).await?;
    let input = input.validate()?;
    let now = now_ms();
    let id = event_id.map_or_else(|| new_id("evt"), str::to_string);
    let saved = if event_id.is_some() {
        sqlx::query(
            "update stream_events set event_key = $1, body = $2, sender = $3, active = $4,
                 updated_at = $5
             where id = $6 and stream_id = $7",
        )
        .bind(&input.key)
        .bind(&input.body)
        .bind(&input.sender)
        .bind(i64::from(input.active))
        .bind(now)
        .bind(&id)
        .bind(stream_id)
        .execute(db.pool())
        .await
    } else {
        sqlx::query(
            "insert into stream_events (id, stream_id, event_key, body, sender, active,
                 created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(stream_id)
        .bind(&input.key)
        .bind(&input.body)
        .bind(&input.sender)
        .bind(i64::from(input.active))
        .bind(now)
        .execute(db.pool())
        .await
    };
    match saved {
        Ok(done) if done.rows_affected() == 0 => Err(StreamError::NotFound),
        Ok(_) => Ok(StreamEvent { id, input }),
        Err(error) if is_unique_violation(&error) => Err(FieldError::new(
            "key",
            "event_exists",
            format!("This stream already has an event called {}.", input.key),
        )
        .into()),
        Err(error) => Err(error.into()),
    }
}

pub async fn delete_event(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    event_id: &str,
) -> Result<(), StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Events)).await?;
    let deleted = sqlx::query("delete from stream_events where id = $1 and stream_id = $2")
        .bind(event_id)
        .bind(stream_id)
        .execute(db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    Ok(())
}

/// The stream's webhook (status callbacks, and incoming messages where it has them), if it has
/// one.
pub async fn webhook(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<Option<Webhook>, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    let row = sqlx::query(
        "select method, url, headers, enabled, updated_at from webhooks where stream_id = $1",
    )
    .bind(stream_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|row| Webhook {
        input: WebhookInput {
            method: WebhookMethod::parse(row.get("method")).unwrap_or_default(),
            url: row.get("url"),
            headers: serde_json::from_str(row.get("headers")).unwrap_or_default(),
            enabled: row.get::<i64, _>("enabled") != 0,
        },
        updated_at: row.get("updated_at"),
    }))
}

/// Sets the webhook; the first save gives it a signing secret.
pub async fn save_webhook(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    stream_id: &StreamId,
    input: WebhookInput,
) -> Result<Webhook, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    let input = input.validate()?;
    let now = now_ms();
    sqlx::query(
        "insert into webhooks (stream_id, method, url, headers, enabled, secret_sealed, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (stream_id) do update set method = excluded.method, url = excluded.url,
             headers = excluded.headers, enabled = excluded.enabled,
             updated_at = excluded.updated_at",
    )
    .bind(stream_id)
    .bind(input.method.as_str())
    .bind(&input.url)
    .bind(serde_json::to_string(&input.headers).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(input.enabled))
    .bind(key.seal(webhook_secret().as_bytes(), webhook_secret_place(stream_id)))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(Webhook {
        input,
        updated_at: now,
    })
}

/// Removes the webhook (the wizard's Skip on a stream that had one, or the tab's Remove).
pub async fn delete_webhook(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<(), StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    sqlx::query("delete from webhooks where stream_id = $1")
        .bind(stream_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Where a stream's webhook signing secret is sealed.
pub fn webhook_secret_place(stream_id: &StreamId) -> Place<'_> {
    Place::new("webhooks", "secret_sealed", stream_id)
}

/// The webhook's signing secret, decrypted; `rotate` replaces it first.
pub async fn webhook_signing_secret(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    stream_id: &StreamId,
    rotate: bool,
) -> Result<String, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::Webhook)).await?;
    if rotate {
        sqlx::query("update webhooks set secret_sealed = $1, updated_at = $2 where stream_id = $3")
            .bind(key.seal(webhook_secret().as_bytes(), webhook_secret_place(stream_id)))
            .bind(now_ms())
            .bind(stream_id)
            .execute(db.pool())
            .await?;
    }
    let sealed: Option<String> =
        sqlx::query_scalar("select secret_sealed from webhooks where stream_id = $1")
            .bind(stream_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(key.open_text(
        &sealed.ok_or(StreamError::NotFound)?,
        webhook_secret_place(stream_id),
    )?)
}

/// The stream's WhatsApp settings and templates; empty until saved.
pub async fn whatsapp_settings(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<WhatsAppSettings, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::WhatsApp)).await?;
    let row = sqlx::query(
        "select business_account_id, phone_number_ids, access_token_sealed, app_secret_sealed
         from whatsapp_settings where stream_id = $1",
    )
    .bind(stream_id)
    .fetch_optional(db.pool())
    .await?;
    let templates = sqlx::query(
        "select name, language, body from whatsapp_templates
         where stream_id = $1 order by name, language",
    )
    .bind(stream_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|row| WhatsAppTemplate {
        name: row.get("name"),
        language: row.get("language"),
        body: row.get("body"),
    })
    .collect();
    let mut settings = WhatsAppSettings {
        templates,
        ..Default::default()
    };
    if let Some(row) = row {
        settings.business_account_id = row.get("business_account_id");
        settings.phone_number_ids = row
            .get::<String, _>("phone_number_ids")
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect();
        settings.has_access_token = row
            .get::<Option<String>, _>("access_token_sealed")
            .is_some();
        settings.has_app_secret = row.get::<Option<String>, _>("app_secret_sealed").is_some();
    }
    Ok(settings)
}

/// Saves the WhatsApp settings; a secret left empty keeps the stored one.
pub async fn save_whatsapp_settings(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    stream_id: &StreamId,
    input: WhatsAppInput,
) -> Result<WhatsAppSettings, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::WhatsApp)).await?;
    let input = input.validate()?;
    let seal = |secret: &Option<String>, column| {
        secret.as_ref().map(|s| {
            key.seal(
                s.as_bytes(),
                Place::new("whatsapp_settings", column, stream_id),
            )
        })
    };
    sqlx::query(
        "insert into whatsapp_settings (stream_id, business_account_id, phone_number_ids,
             access_token_sealed, app_secret_sealed, updated_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (stream_id) do update set
             business_account_id = excluded.business_account_id,
             phone_number_ids = excluded.phone_number_ids,
             access_token_sealed = coalesce(excluded.access_token_sealed,
                 whatsapp_settings.access_token_sealed),
             app_secret_sealed = coalesce(excluded.app_secret_sealed,
                 whatsapp_settings.app_secret_sealed),
             updated_at = excluded.updated_at",
    )
    .bind(stream_id)
    .bind(&input.business_account_id)
    .bind(input.phone_number_ids.join(","))
    .bind(seal(&input.access_token, "access_token_sealed"))
    .bind(seal(&input.app_secret, "app_secret_sealed"))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    whatsapp_settings(db, account_id, stream_id).await
}

/// The stored access token and app secret, decrypted, for the channel that calls Meta.
pub async fn whatsapp_secrets(
    db: &Db,
    key: &SecretKey,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<(Option<String>, Option<String>), StreamError> {
    owned(db, account_id, stream_id, Some(Setting::WhatsApp)).await?;
    let row = sqlx::query(
        "select access_token_sealed, app_secret_sealed from whatsapp_settings where stream_id = $1",
    )
    .bind(stream_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok((None, None));
    };
    let open = |column: &'static str| -> Result<Option<String>, StreamError> {
        let place = Place::new("whatsapp_settings", column, stream_id);
        row.get::<Option<String>, _>(column)
            .map(|sealed| Ok(key.open_text(&sealed, place)?))
            .transpose()
    };
    Ok((open("access_token_sealed")?, open("app_secret_sealed")?))
}

pub async fn add_whatsapp_template(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    template: WhatsAppTemplate,
) -> Result<WhatsAppTemplate, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::WhatsApp)).await?;
    let template = template.validate()?;
    let inserted = sqlx::query(
        "insert into whatsapp_templates (stream_id, name, language, body, created_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(stream_id)
    .bind(&template.name)
    .bind(&template.language)
    .bind(&template.body)
    .bind(now_ms())
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => Ok(template),
        Err(error) if is_unique_violation(&error) => Err(FieldError::new(
            "template_name",
            "template_exists",
            format!(
                "The template {} ({}) is already listed.",
                template.name, template.language
            ),
        )
        .into()),
        Err(error) => Err(error.into()),
    }
}

pub async fn delete_whatsapp_template(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    name: &str,
    language: &str,
) -> Result<(), StreamError> {
    owned(db, account_id, stream_id, Some(Setting::WhatsApp)).await?;
    let deleted = sqlx::query(
        "delete from whatsapp_templates where stream_id = $1 and name = $2 and language = $3",
    )
    .bind(stream_id)
    .bind(name)
    .bind(language)
    .execute(db.pool())
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    Ok(())
}

/// Adds the Business Account's templates that are not listed yet and updates the bodies of
/// those that are; answers how many were added or changed. Templates added by hand stay.
pub async fn merge_whatsapp_templates(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    templates: &[WhatsAppTemplate],
) -> Result<usize, StreamError> {
    owned(db, account_id, stream_id, Some(Setting::WhatsApp)).await?;
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let mut changed = 0;
    for template in templates {
        let done = sqlx::query(
            "insert into whatsapp_templates (stream_id, name, language, body, created_at)
             values ($1, $2, $3, $4, $5)
             on conflict (stream_id, name, language) do update set body = excluded.body
             where whatsapp_templates.body <> excluded.body",
        )
        .bind(stream_id)
        .bind(&template.name)
        .bind(&template.language)
        .bind(&template.body)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        changed += usize::try_from(done.rows_affected()).unwrap_or(0);
    }
    tx.commit().await?;
    Ok(changed)
}

/// The numbers a restricted stream may send to.
pub async fn test_recipients(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<Vec<String>, StreamError> {
    owned(db, account_id, stream_id, None).await?;
    Ok(sqlx::query_scalar(
        "select phone from test_recipients where stream_id = $1 order by created_at, phone",
    )
    .bind(stream_id)
    .fetch_all(db.pool())
    .await?)
}

/// The most test recipients a restricted stream sends to.
const MAX_TEST_RECIPIENTS: i64 = 100;

pub async fn add_test_recipient(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    phone: &str,
) -> Result<String, StreamError> {
    owned(db, account_id, stream_id, None).await?;
    let phone = parse_phone("phone", phone)?;
    let listed: i64 =
        sqlx::query_scalar("select count(*) from test_recipients where stream_id = $1")
            .bind(stream_id)
            .fetch_one(db.pool())
            .await?;
    if listed >= MAX_TEST_RECIPIENTS {
        return Err(FieldError::new(
            "phone",
            "too_many_recipients",
            format!("A stream has at most {MAX_TEST_RECIPIENTS} test recipients."),
        )
        .into());
    }
    // Listed in the order added: one added within the same millisecond as the last comes after it.
    let inserted = sqlx::query(
        "insert into test_recipients (stream_id, phone, created_at)
         select $1, $2, case when max(created_at) >= $3 then max(created_at) + 1 else $3 end
         from test_recipients where stream_id = $1",
    )
    .bind(stream_id)
    .bind(&phone)
    .bind(now_ms())
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => Ok(phone),
        Err(error) if is_unique_violation(&error) => Err(FieldError::new(
            "phone",
            "recipient_exists",
            format!("{phone} is already a test recipient."),
        )
        .into()),
        Err(error) => Err(error.into()),
    }
}

pub async fn remove_test_recipient(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
    phone: &str,
) -> Result<(), StreamError> {
    owned(db, account_id, stream_id, None).await?;
    let deleted = sqlx::query("delete from test_recipients where stream_id = $1 and phone = $2")
        .bind(stream_id)
        .bind(phone.trim())
        .execute(db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StreamError::NotFound);
    }
    Ok(())
}
