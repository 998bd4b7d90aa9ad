//! The console's read models: the Messages list, a stream's stats and the Realtime snapshot.

use sqlx::{Any, Row, any::AnyRow};

use crate::{
    db::{Db, now_ms},
    ids::{AccountId, StreamId},
    messages::{
        Counts, LiveSnapshot, LiveStream, MessageFilter, MessagePage, MessageRow, MessageStatus,
        StreamStats,
    },
    time::{DAY_MS, parse_date},
};

/// A query with the Messages filters bound as $1 to $8.
fn filtered<'q>(
    sql: &'q str,
    values: &[String; 6],
    from: i64,
    to: i64,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for value in values {
        query = query.bind(value.clone());
    }
    query.bind(from).bind(to)
}

/// The account's messages matching `filter`, newest first, one page of them.
pub async fn list(
    db: &Db,
    account_id: &AccountId,
    filter: &MessageFilter,
) -> Result<MessagePage, sqlx::Error> {
    let per_page = i64::from(filter.per_page.clamp(1, 200));
    let page = i64::from(filter.page.max(1));
    let phone = filter.phone.trim();
    let pattern = format!(
        "%{}%",
        phone
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let from = parse_date(&filter.from).unwrap_or(i64::MIN);
    let to = parse_date(&filter.to).map_or(i64::MAX, |day| day + DAY_MS);
    let status = filter.status.map(MessageStatus::as_str).unwrap_or_default();
    let matching = "from messages m join streams s on s.id = m.stream_id
         where m.account_id = $1
           and ($2 = '' or m.stream_id = $2)
           and ($3 = '' or m.status = $3)
           and ($4 = '' or m.direction = $4)
           and ($5 = '' or m.recipient like $6 escape '\\' or m.sender like $6 escape '\\')
           and m.created_at >= $7 and m.created_at < $8";
    let count_sql = format!("select count(*) {matching}");
    let values = [
        account_id,
        filter.stream.trim(),
        status,
        filter.direction.trim(),
        phone,
        &pattern,
    ]
    .map(str::to_string);

    let total: i64 = filtered(&count_sql, &values, from, to)
        .fetch_one(db.pool())
        .await?
        .get(0);
    let list_sql = format!(
        "select m.id, m.stream_id, s.name as stream_name, m.internal_id, m.direction, m.sender,
             m.recipient, m.content, m.redacted_at, m.encoding, m.segments, m.status,
             m.error_message, m.created_at, m.updated_at
         {matching}
         order by m.created_at desc, m.id desc limit $9 offset $10"
    );
    let rows = filtered(&list_sql, &values, from, to)
        .bind(per_page)
        .bind((page - 1) * per_page)
        .fetch_all(db.pool())
        .await?;
    let messages = rows
        .iter()
        .map(|row| MessageRow {
            id: row.get("id"),
            stream_id: row.get("stream_id"),
            stream_name: row.get("stream_name"),
            internal_id: row.get("internal_id"),
            direction: row.get("direction"),
            sender: row.get("sender"),
            recipient: row.get("recipient"),
            content: row.get("content"),
            redacted: row.get::<Option<i64>, _>("redacted_at").is_some(),
            encoding: row.get("encoding"),
            segments: row.get("segments"),
            status: MessageStatus::parse(row.get("status")).unwrap_or(MessageStatus::Queued),
            error: row.get("error_message"),
            created_at: row.get("created_at"),
            updated_at: row.get("updated_at"),
        })
        .collect();
    Ok(MessagePage {
        total,
        messages,
        retention: Default::default(),
    })
}

/// The stream's outbound messages over the last 24 hours and the last seven days, by day.
pub async fn stats(
    db: &Db,
    account_id: &AccountId,
    stream_id: &StreamId,
) -> Result<StreamStats, sqlx::Error> {
    let now = now_ms();
    let today = now - now.rem_euclid(DAY_MS);
    let first_day = today - 6 * DAY_MS;
    let rows = sqlx::query(
        "select created_at / 86400000 as day, status, count(*) as n,
             sum(case when created_at >= $4 then 1 else 0 end) as recent
         from messages
         where account_id = $1 and stream_id = $2 and direction = 'outbound' and created_at >= $3
         group by created_at / 86400000, status",
    )
    .bind(account_id)
    .bind(stream_id)
    .bind(first_day)
    .bind(now - DAY_MS)
    .fetch_all(db.pool())
    .await?;
    let mut stats = StreamStats {
        days: (0..7)
            .map(|n| (first_day + n * DAY_MS, Counts::default()))
            .collect(),
        ..StreamStats::default()
    };
    for row in &rows {
        let Some(status) = MessageStatus::parse(row.get("status")) else {
            continue;
        };
        let (day, n, recent): (i64, i64, i64) = (row.get("day"), row.get("n"), row.get("recent"));
        stats.last_7d.add(status, n);
        stats.last_24h.add(status, recent);
        if let Some((_, counts)) = stats
            .days
            .iter_mut()
            .find(|(start, _)| *start == day * DAY_MS)
        {
            counts.add(status, n);
        }
    }
    stats.opt_out_count = sqlx::query_scalar(
        "select count(*) from opt_outs o join streams s on s.id = o.stream_id
         where s.account_id = $1 and o.stream_id = $2",
    )
    .bind(account_id)
    .bind(stream_id)
    .fetch_one(db.pool())
    .await?;
    stats.opt_outs = sqlx::query_as(
        "select o.phone, o.created_at from opt_outs o join streams s on s.id = o.stream_id
         where s.account_id = $1 and o.stream_id = $2
         order by o.created_at desc, o.phone limit $3",
    )
    .bind(account_id)
    .bind(stream_id)
    .bind(crate::messages::OPT_OUTS_SHOWN)
    .fetch_all(db.pool())
    .await?;
    Ok(stats)
}

/// The account's finished streams with their last minute of activity.
pub async fn live(db: &Db, account_id: &AccountId) -> Result<LiveSnapshot, sqlx::Error> {
    let now = now_ms();
    let since = now - 60_000;
    let rows = sqlx::query(
        "select s.id, s.name, s.status,
             sum(case when m.direction = 'outbound' and m.created_at >= $2 then 1 else 0 end)
                 as per_minute,
             sum(case when m.status = 'delivered' and m.updated_at >= $2 then 1 else 0 end)
                 as delivered,
             sum(case when m.status in ('undelivered', 'sent_failed', 'rejected', 'no_routes',
                     'expired') and m.updated_at >= $2 then 1 else 0 end) as failed,
             sum(case when m.next_at is not null then 1 else 0 end) as in_flight
         from streams s
         left join messages m on m.stream_id = s.id
             and (m.updated_at >= $2 or m.next_at is not null)
         where s.account_id = $1 and s.status <> 'draft'
         group by s.id, s.name, s.status, s.created_at
         order by s.created_at desc",
    )
    .bind(account_id)
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    let tags: Vec<(String, String)> = sqlx::query_as(
        "select st.stream_id, t.name from stream_tags st join tags t on t.id = st.tag_id
         where t.account_id = $1 order by t.name",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    let count = |row: &AnyRow, column: &str| row.try_get::<i64, _>(column).unwrap_or(0);
    let streams = rows
        .iter()
        .map(|row| {
            let id: String = row.get("id");
            let in_flight = count(row, "in_flight");
            let status: String = row.get("status");
            LiveStream {
                tags: tags
                    .iter()
                    .filter(|(stream, _)| *stream == id)
                    .map(|(_, tag)| tag.clone())
                    .collect(),
                name: row.get("name"),
                status: if status == "ready" && in_flight > 0 {
                    "sending".into()
                } else {
                    status
                },
                per_minute: count(row, "per_minute"),
                delivered: count(row, "delivered"),
                failed: count(row, "failed"),
                in_flight,
                id,
            }
        })
        .collect();
    Ok(LiveSnapshot { at: now, streams })
}
