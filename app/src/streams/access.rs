//! Who may create WhatsApp streams. The operator opens them to every account (`on`), keeps them
//! behind *Request Access* (`request`: each account asks, the operator grants on the CLI), or
//! closes them (`off`). Existing WhatsApp streams keep working whatever the setting.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The operator's setting: `[features] whatsapp`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhatsAppFeature {
    #[default]
    On,
    Request,
    Off,
}

/// What one account may do about WhatsApp streams now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WhatsAppAccess {
    /// It may create them.
    Open,
    /// It may ask for access.
    Requestable,
    /// It asked; the operator has not granted it yet.
    Requested,
    /// Nobody may create them on this server.
    Closed,
}

impl WhatsAppAccess {
    pub fn of(feature: WhatsAppFeature, requested: bool, granted: bool) -> Self {
        match feature {
            WhatsAppFeature::On => Self::Open,
            WhatsAppFeature::Off => Self::Closed,
            WhatsAppFeature::Request if granted => Self::Open,
            WhatsAppFeature::Request if requested => Self::Requested,
            WhatsAppFeature::Request => Self::Requestable,
        }
    }
}

/// A request as the operator lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub account_id: String,
    pub account_name: String,
    /// The account owner's email.
    pub email: String,
    pub requested_at: i64,
    pub granted_at: Option<i64>,
}

#[cfg(feature = "ssr")]
pub mod store {
    use sqlx::Row;

    use super::{AccessRequest, WhatsAppAccess, WhatsAppFeature};
    use crate::{
        db::{Db, now_ms},
        ids::AccountId,
    };

    /// The account's access under the operator's setting.
    pub async fn access(
        db: &Db,
        feature: WhatsAppFeature,
        account_id: &AccountId,
    ) -> Result<WhatsAppAccess, sqlx::Error> {
        if feature != WhatsAppFeature::Request {
            return Ok(WhatsAppAccess::of(feature, false, false));
        }
        let granted: Option<Option<i64>> =
            sqlx::query_scalar("select granted_at from whatsapp_access where account_id = $1")
                .bind(account_id)
                .fetch_optional(db.pool())
                .await?;
        Ok(WhatsAppAccess::of(
            feature,
            granted.is_some(),
            granted.flatten().is_some(),
        ))
    }

    /// Records the account's request (once; asking again changes nothing).
    pub async fn request(db: &Db, account_id: &AccountId) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into whatsapp_access (account_id, requested_at) values ($1, $2)
             on conflict (account_id) do nothing",
        )
        .bind(account_id)
        .bind(now_ms())
        .execute(&mut *db.writer().await?)
        .await?;
        Ok(())
    }

    /// Grants the account access, whether or not it asked.
    pub async fn grant(db: &Db, account_id: &AccountId) -> Result<(), sqlx::Error> {
        let now = now_ms();
        sqlx::query(
            "insert into whatsapp_access (account_id, requested_at, granted_at) values ($1, $2, $2)
             on conflict (account_id) do update
                 set granted_at = coalesce(whatsapp_access.granted_at, excluded.granted_at)",
        )
        .bind(account_id)
        .bind(now)
        .execute(&mut *db.writer().await?)
        .await?;
        Ok(())
    }

    /// Every request, oldest first, with the account's owner.
    pub async fn requests(db: &Db) -> Result<Vec<AccessRequest>, sqlx::Error> {
        let rows = sqlx::query(
            "select w.account_id, a.name, min(u.email) as email, w.requested_at, w.granted_at
             from whatsapp_access w
             join accounts a on a.id = w.account_id
             join users u on u.account_id = w.account_id and u.role = 'owner'
             group by w.account_id, a.name, w.requested_at, w.granted_at
             order by w.requested_at, w.account_id",
        )
        .fetch_all(db.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|row| AccessRequest {
                account_id: row.get("account_id"),
                account_name: row.get("name"),
                email: row.get("email"),
                requested_at: row.get("requested_at"),
                granted_at: row.get("granted_at"),
            })
            .collect())
    }
}

/// The signed-in account's WhatsApp access.
#[server(prefix = "/api", endpoint = "streams/whatsapp-access", input = server_fn::codec::Json)]
pub async fn whatsapp_access() -> Result<WhatsAppAccess, AppError> {
    let (state, user) = super::api::ssr::context()?;
    store::access(&state.db, state.whatsapp, &user.account_id)
        .await
        .map_err(super::api::ssr::internal)
}

/// Asks the operator for WhatsApp streams; answers the account's access after asking.
#[server(prefix = "/api", endpoint = "streams/whatsapp-access/request", input = server_fn::codec::Json)]
pub async fn request_whatsapp_access() -> Result<WhatsAppAccess, AppError> {
    let (state, user) = super::api::ssr::context()?;
    if state.whatsapp == WhatsAppFeature::Request {
        store::request(&state.db, &user.account_id)
            .await
            .map_err(super::api::ssr::internal)?;
    }
    store::access(&state.db, state.whatsapp, &user.account_id)
        .await
        .map_err(super::api::ssr::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_follows_the_setting_then_the_request() {
        use WhatsAppAccess::*;
        use WhatsAppFeature as F;
        assert_eq!(WhatsAppAccess::of(F::On, false, false), Open);
        assert_eq!(WhatsAppAccess::of(F::Off, true, true), Closed);
        assert_eq!(WhatsAppAccess::of(F::Request, false, false), Requestable);
        assert_eq!(WhatsAppAccess::of(F::Request, true, false), Requested);
        assert_eq!(WhatsAppAccess::of(F::Request, true, true), Open);
    }
}
