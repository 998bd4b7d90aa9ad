//! The OpenAPI 3.1 document of the public API, generated from the handlers and their request
//! types, served at `/api/openapi.json`.

use axum::{Json, response::IntoResponse};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
        path::{Operation, ParameterBuilder, ParameterIn},
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

/// The stream token goes in `Authorization`, with or without `Bearer `.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The stream's API token, raw or as `Bearer <token>`.",
            ))),
        );
    }
}

/// The answers every operation may give, whatever it does: the layers in front of the handlers
/// (body size, rate limits) and, where a token is needed, finding its stream.
struct CommonAnswers;

impl CommonAnswers {
    /// Adds `status` with an `ErrorAnswer` body unless the operation describes it already.
    fn add(operation: &mut Operation, status: &str, description: &str) {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorAnswer")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}

impl CommonAnswers {
    /// A POST with a token takes an `Idempotency-Key`, and answers what that brings.
    fn idempotent(operation: &mut Operation) {
        let key = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Sends the request at most once: the same key with the same request answers the first answer again (with `Idempotent-Replayed: true`) for 24 hours, per stream. Only successful answers are kept.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]+$")),
            ))
            .example(Some(serde_json::json!("5f1c7d4e-2b8a-4c1e-9f3a-0d6b2e8c7a41")))
            .build();
        operation.parameters.get_or_insert_with(Vec::new).push(key);
        Self::add(
            operation,
            "409",
            "A request with this Idempotency-Key is still running; see Retry-After",
        );
        Self::add(
            operation,
            "422",
            "This Idempotency-Key was used with a different request",
        );
    }
}

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            if let Some(post) = item.post.as_mut().filter(|post| post.security.is_some()) {
                Self::idempotent(post);
            }
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                Self::add(operation, "400", "The body could not be read");
                Self::add(operation, "413", "The body is larger than the API takes");
                Self::add(
                    operation,
                    "429",
                    "Too many requests from this token, or too many unknown tokens from this network; see Retry-After",
                );
                if operation.security.is_some() {
                    Self::add(operation, "401", "No token, or not a stream's token");
                    Self::add(
                        operation,
                        "403",
                        "The caller's address is not allowed, or the stream is disabled, a draft or of another type",
                    );
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sluice Streams API",
        description = "Send SMS, events, one-time passwords and WhatsApp messages through a stream. Every path also works without its trailing slash."
    ),
    paths(
        super::send::simple_send,
        super::send::event_send,
        super::otp::auth,
        super::otp::verify,
        super::status::status_get,
        super::status::status_post,
        super::whatsapp::template,
        super::whatsapp::media,
        super::whatsapp::reply,
        super::demo::inbound,
        super::demo::messages,
        super::inbound::sms,
        super::inbound::whatsapp_verify,
        super::inbound::whatsapp_notify,
    ),
    modifiers(&TokenAuth, &CommonAnswers),
)]
pub struct ApiDoc;

pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
