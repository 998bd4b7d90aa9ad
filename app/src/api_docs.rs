//! The API docs page's view of the OpenAPI document: operations with their request fields
//! and answers, read from the document the server generates from its handlers.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub tag: String,
    pub summary: String,
    pub fields: Vec<FieldDoc>,
    pub responses: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDoc {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

/// The type of a schema, briefly: `string`, `array of SimpleMessage`, `object`…
fn kind_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    match &schema["type"] {
        Value::String(kind) if kind == "array" => format!("array of {}", kind_of(&schema["items"])),
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .filter(|k| *k != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ if schema["oneOf"].is_array() => schema["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .map(kind_of)
            .filter(|k| k != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}

/// The fields of a request schema and of the schemas its arrays hold, one level down.
fn fields(document: &Value, schema: &Value, prefix: &str, out: &mut Vec<FieldDoc>) {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            &document["components"]["schemas"][reference.rsplit('/').next().unwrap_or_default()]
        }
        None => schema,
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        out.push(FieldDoc {
            name: format!("{prefix}{name}"),
            kind: kind_of(property),
            required: required.contains(&name.as_str()),
            description: property["description"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
        if prefix.is_empty() && property["items"]["$ref"].is_string() {
            fields(document, &property["items"], &format!("{name}[]."), out);
        }
    }
}

/// Every operation of the document, in its order.
pub fn operations(document: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let mut request = Vec::new();
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            if !body.is_null() {
                fields(document, body, "", &mut request);
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                request.push(FieldDoc {
                    name: format!("{} (query)", parameter["name"].as_str().unwrap_or_default()),
                    kind: kind_of(&parameter["schema"]),
                    required: parameter["required"].as_bool().unwrap_or(false),
                    description: parameter["description"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                });
            }
            found.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                tag: operation["tags"][0].as_str().unwrap_or("api").to_string(),
                summary: operation["summary"]
                    .as_str()
                    .or(operation["description"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                fields: request,
                responses: operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(status, response)| {
                        (
                            status.clone(),
                            response["description"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        )
                    })
                    .collect(),
            });
        }
    }
    found
}

#[server(prefix = "/api", endpoint = "docs/operations")]
pub async fn api_operations() -> Result<Vec<Operation>, AppError> {
    crate::auth::ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    Ok(operations(&state.api_document))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operations_list_fields_from_referenced_schemas() {
        let document = json!({
            "paths": { "/simple_send/": { "post": {
                "tags": ["sms"], "summary": "Sends",
                "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SimpleSend" } } } },
                "responses": { "200": { "description": "Queued" } },
            } } },
            "components": { "schemas": {
                "SimpleSend": { "type": "object", "required": ["messages"], "properties": {
                    "messages": { "type": "array", "items": { "$ref": "#/components/schemas/SimpleMessage" } },
                } },
                "SimpleMessage": { "type": "object", "required": ["recipient_phone"], "properties": {
                    "recipient_phone": { "type": "string" },
                    "sender": { "type": ["string", "null"] },
                } },
            } },
        });
        let operations = operations(&document);
        assert_eq!(operations.len(), 1);
        let names: Vec<_> = operations[0]
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.kind.as_str(), f.required))
            .collect();
        assert_eq!(
            names,
            [
                ("messages", "array of SimpleMessage", true),
                ("messages[].recipient_phone", "string", true),
                ("messages[].sender", "string", false),
            ]
        );
        assert_eq!(
            operations[0].responses,
            [("200".to_string(), "Queued".to_string())]
        );
    }
}
