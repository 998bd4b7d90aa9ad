//! Example API requests for a stream, shown with copy buttons in the wizard's Summary and the
//! side panel's Request API tab. Bodies follow the public API's field names exactly.

use serde_json::{Value, json};

use super::StreamKind;

/// One request a customer's system makes to a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPreview {
    pub title: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub body: String,
}

fn preview(title: &'static str, path: &'static str, body: Value) -> RequestPreview {
    RequestPreview {
        title,
        method: "POST",
        path,
        body: serde_json::to_string_pretty(&body).unwrap_or_default(),
    }
}

/// The requests of a stream of `kind`; `sender` is its default sender (None: customized).
pub fn request_previews(kind: StreamKind, sender: Option<&str>) -> Vec<RequestPreview> {
    let with_sender = |mut message: Value| {
        if sender.is_none() {
            message["sender"] = json!("YourSender");
        }
        message
    };
    let status = preview(
        "Status request",
        "/status/",
        json!({ "internal_ids": ["order-1001"] }),
    );
    match kind {
        StreamKind::SmsMarketing | StreamKind::SmsTwoWay => vec![
            preview(
                "Send request",
                "/simple_send/",
                json!({ "messages": [with_sender(json!({
                    "internal_id": "order-1001",
                    "recipient_phone": "+447700900123",
                    "message_content": "Hello from Sluice!",
                }))] }),
            ),
            status,
        ],
        StreamKind::SmsTransactional => vec![
            preview(
                "Send request",
                "/simple_send/",
                json!({ "messages": [with_sender(json!({
                    "internal_id": "order-1001",
                    "recipient_phone": "+447700900123",
                    "message_content": "Your order 1001 has shipped.",
                }))] }),
            ),
            preview(
                "Event request",
                "/event_send/",
                json!({ "event": "order_shipped", "recipients": [with_sender(json!({
                    "internal_id": "order-1001-shipped",
                    "recipient_phone": "+447700900123",
                    "template_variables": { "order": "1001" },
                }))] }),
            ),
            status,
        ],
        StreamKind::SmsOtp => vec![
            preview(
                "Send code request",
                "/otp/auth",
                with_sender(json!({ "recipient_phone": "+447700900123" })),
            ),
            preview(
                "Verify code request",
                "/otp/verify",
                json!({ "recipient_phone": "+447700900123", "code": "12345" }),
            ),
            status,
        ],
        StreamKind::Whatsapp => vec![
            preview(
                "Initial conversation request",
                "/whatsapp/template/",
                json!({
                    "internal_id": "welcome-1",
                    "recipient_phone": "+447700900123",
                    "template_name": "welcome",
                    "language": "en_US",
                    "template_variables": ["Ann"],
                }),
            ),
            preview(
                "Message with media request",
                "/whatsapp/media/",
                json!({
                    "internal_id": "invoice-1",
                    "recipient_phone": "+447700900123",
                    "media_type": "document",
                    "media_url": "https://example.com/invoice-1.pdf",
                    "caption": "Your invoice",
                    "filename": "invoice-1.pdf",
                }),
            ),
            preview(
                "Reply message request",
                "/whatsapp/reply/",
                json!({
                    "internal_id": "reply-1",
                    "recipient_phone": "+447700900123",
                    "message_content": "Thanks, we are on it.",
                    "reply_to": "3f1c0d6e-5b7a-4c1e-9a53-0c2f4b8e2a10",
                }),
            ),
            status,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_its_requests_and_a_status_request() {
        let paths = |kind| {
            request_previews(kind, Some("Acme"))
                .into_iter()
                .map(|r| r.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            paths(StreamKind::SmsMarketing),
            ["/simple_send/", "/status/"]
        );
        assert_eq!(
            paths(StreamKind::SmsTransactional),
            ["/simple_send/", "/event_send/", "/status/"]
        );
        assert_eq!(
            paths(StreamKind::SmsOtp),
            ["/otp/auth", "/otp/verify", "/status/"]
        );
        assert_eq!(
            paths(StreamKind::Whatsapp),
            [
                "/whatsapp/template/",
                "/whatsapp/media/",
                "/whatsapp/reply/",
                "/status/"
            ]
        );
    }

    #[test]
    fn a_customized_sender_appears_in_the_body_and_a_default_one_does_not() {
        let customized = &request_previews(StreamKind::SmsMarketing, None)[0].body;
        let defaulted = &request_previews(StreamKind::SmsMarketing, Some("Acme"))[0].body;
        assert!(customized.contains("\"sender\""));
        assert!(!defaulted.contains("\"sender\""));
        let body: Value = serde_json::from_str(defaulted).unwrap();
        assert_eq!(body["messages"][0]["recipient_phone"], "+447700900123");
    }
}
