//! A client of Meta's WhatsApp Cloud API (the Graph API): sending messages and reading a
//! Business Account's message templates. The base URL and version are the operator's.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::streams::settings::WhatsAppTemplate;

/// Where the Graph API is (`[whatsapp]` in `sluice.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphConfig {
    pub base_url: String,
    pub api_version: String,
    /// How long Meta has to answer, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            base_url: "https://graph.facebook.com".into(),
            api_version: "v21.0".into(),
            timeout_ms: 10_000,
        }
    }
}

/// Meta's error codes that mean "slow down or try again later".
const RETRY_LATER: [i64; 7] = [
    1,       // API unknown (temporary)
    2,       // API service (temporary)
    4,       // application request limit
    80_007,  // Business Account rate limit
    130_429, // throughput limit
    131_016, // service unavailable
    131_056, // pair rate limit
];

/// Why a Graph API call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// Worth trying again later: rate limits, Meta's temporary errors, timeouts.
    pub transient: bool,
    /// Meta's error code, when it answered with one.
    pub code: Option<i64>,
    pub message: String,
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "{} (Meta error {code})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GraphApi {
    config: GraphConfig,
    client: reqwest::Client,
}

impl GraphApi {
    pub fn new(config: GraphConfig) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Sluice/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { config, client })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{path}",
            self.config.base_url.trim_end_matches('/'),
            self.config.api_version.trim_matches('/')
        )
    }

    /// Sends one message (`POST /{phone-number-id}/messages`); answers Meta's message id.
    pub async fn send(
        &self,
        phone_number_id: &str,
        token: &str,
        body: &Value,
    ) -> Result<String, GraphError> {
        let request = self
            .client
            .post(self.url(&format!("{phone_number_id}/messages")))
            .bearer_auth(token)
            .json(body);
        let answer = call(request).await?;
        answer
            .pointer("/messages/0/id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| GraphError {
                transient: false,
                code: None,
                message: "Meta accepted the message but answered no message id.".into(),
            })
    }

    /// The Business Account's approved templates, every page of them.
    pub async fn templates(
        &self,
        business_account_id: &str,
        token: &str,
    ) -> Result<Vec<WhatsAppTemplate>, GraphError> {
        let mut templates = Vec::new();
        let mut after: Option<String> = None;
        // A Business Account has at most a few thousand templates: 50 pages of 100.
        for _ in 0..50 {
            let mut query = vec![
                ("fields", "name,language,status,components".to_string()),
                ("limit", "100".to_string()),
            ];
            if let Some(cursor) = &after {
                query.push(("after", cursor.clone()));
            }
            let request = self
                .client
                .get(self.url(&format!("{business_account_id}/message_templates")))
                .bearer_auth(token)
                .query(&query);
            let page = call(request).await?;
            for item in page["data"].as_array().into_iter().flatten() {
                if item["status"].as_str() != Some("APPROVED") {
                    continue;
                }
                let body = item["components"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["type"].as_str() == Some("BODY"))
                    .and_then(|c| c["text"].as_str())
                    .unwrap_or_default();
                let template = WhatsAppTemplate {
                    name: item["name"].as_str().unwrap_or_default().into(),
                    language: item["language"].as_str().unwrap_or_default().into(),
                    body: body.into(),
                };
                if let Ok(template) = template.validate() {
                    templates.push(template);
                }
            }
            after = page
                .pointer("/paging/cursors/after")
                .and_then(Value::as_str)
                .filter(|_| page.pointer("/paging/next").is_some())
                .map(str::to_string);
            if after.is_none() {
                return Ok(templates);
            }
        }
        Ok(templates)
    }
}

/// Makes the call and reads Meta's answer: the JSON body on success, else its error.
async fn call(request: reqwest::RequestBuilder) -> Result<Value, GraphError> {
    let response = request.send().await.map_err(|error| GraphError {
        transient: true,
        code: None,
        message: if error.is_timeout() {
            "Meta did not answer in time.".into()
        } else {
            format!("Meta could not be reached: {error}")
        },
    })?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let code = body.pointer("/error/code").and_then(Value::as_i64);
    let message = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("Meta answered HTTP {status}."));
    Err(GraphError {
        transient: status.is_server_error()
            || status.as_u16() == 429
            || code.is_some_and(|c| RETRY_LATER.contains(&c)),
        code,
        message,
    })
}
