//! The HTTP client for URLs tenants give (webhooks, SMS providers). Every request goes through
//! [`Client::request`], which refuses a URL whose host is a private address literal; names are
//! resolved by [`GuardedResolver`] and only allowed addresses are connected to (no DNS
//! rebinding). Redirects are never followed, no environment proxy is used, and answers are
//! read up to [`BODY_CAP`].

use std::time::Duration;

use app::egress::{Blocked, Egress, ResolveError};
use reqwest::{
    Method, RequestBuilder, Response,
    dns::{Addrs, Name, Resolve, Resolving},
};

/// The most of a tenant's endpoint's answer that is read; the rest is dropped unread.
pub const BODY_CAP: usize = 64 * 1024;

/// Why a request to a tenant's URL was not made.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the URL is not valid: {0}")]
    InvalidUrl(#[from] url::ParseError),
    #[error(transparent)]
    Blocked(#[from] Blocked),
}

/// An HTTP client that reaches only what [`Egress`] allows.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    egress: Egress,
    timeout: Duration,
}

impl Client {
    pub fn new(
        egress: Egress,
        timeout: Duration,
        user_agent: &'static str,
    ) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .dns_resolver(std::sync::Arc::new(GuardedResolver { egress }))
            .user_agent(user_agent)
            .build()?;
        Ok(Self {
            http,
            egress,
            timeout,
        })
    }

    /// The longest a request through this client takes, answer included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A request to `url`, once its scheme and any address literal in it are allowed (the
    /// connector takes a literal as it is and never asks the resolver).
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, Refused> {
        let url: url::Url = url.parse()?;
        self.egress.check_url(&url)?;
        Ok(self.http.request(method, url))
    }
}

/// The start of an answer's body, at most [`BODY_CAP`] bytes of it, as text.
pub async fn capped_text(mut response: Response) -> String {
    let mut body = Vec::new();
    while body.len() < BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_CAP - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// An error and its causes on one line, such as the guard's refusal under a connect error.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A resolver that answers only the addresses [`Egress`] allows.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub egress: Egress,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.egress;
        Box::pin(async move {
            let found = egress.resolve(name.as_str(), 0).await.map_err(
                |error: ResolveError| -> Box<dyn std::error::Error + Send + Sync> {
                    Box::new(error)
                },
            )?;
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_refused() {
        let strict = GuardedResolver {
            egress: Egress::default(),
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(strict.resolve(name).await.is_err());
        let open = GuardedResolver {
            egress: Egress {
                allow_private: true,
            },
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(open.resolve(name).await.unwrap().next().is_some());
    }
}
