use leptos::prelude::*;

use super::state::{WizardState, steps};
use crate::pages::streams::settings::{RequestPreviewList, WebhookRequestPreview};

/// The last step: what was chosen, and the requests the stream will answer.
#[component]
pub fn SummaryStep(state: WizardState) -> impl IntoView {
    let input = state.input();
    let sender = input
        .default_sender
        .clone()
        .filter(|s| !s.trim().is_empty());
    let row = |term: &'static str, value: String| {
        view! {
            <div class="grid grid-cols-3 gap-2 py-2">
                <dt class="text-slate-500">{term}</dt>
                <dd class="col-span-2 break-words text-slate-900">{value}</dd>
            </div>
        }
    };
    let or_none = |items: &[String]| {
        if items.is_empty() {
            "None".to_string()
        } else {
            items.join(", ")
        }
    };
    let step_keys: Vec<&str> = steps(state.kind).iter().map(|(key, _)| *key).collect();
    let has_step = |key: &str| step_keys.contains(&key);
    let otp = has_step("otp").then(|| {
        let otp = state.otp.settings();
        view! {
            {row("Code generation", otp.source.label().into())}
            {row("Code", format!("{} digits, valid {} s, {} failed checks allowed", otp.code_length, otp.ttl_seconds, otp.max_failures))}
            {row("Sending limits", format!("{} per hour, {} per day per phone", otp.per_phone_hour, otp.per_phone_day))}
        }
    });
    let whatsapp = has_step("whatsapp").then(|| {
        let input = state.whatsapp.input();
        let stored = |typed: &Option<String>, stored: bool| {
            if typed.is_some() || stored { "Set".to_string() } else { "Not set".to_string() }
        };
        view! {
            {row("Business Account ID", input.business_account_id.clone())}
            {row("Phone-number IDs", or_none(&input.phone_number_ids))}
            {row("Access token", stored(&input.access_token, state.whatsapp.has_access_token.get_untracked()))}
            {row("App secret", stored(&input.app_secret, state.whatsapp.has_app_secret.get_untracked()))}
        }
    });
    let webhook = has_step("webhook").then(|| state.webhook.input());
    let webhook_row = webhook.clone().map(|webhook| {
        let text = if webhook.url.trim().is_empty() {
            "None".to_string()
        } else {
            format!("{} {}", webhook.method.as_str(), webhook.url.trim())
        };
        row("Incoming webhook", text)
    });
    let webhook_preview = webhook.filter(|w| !w.url.trim().is_empty()).map(|webhook| {
        view! {
            <WebhookRequestPreview
                kind=state.kind
                method=webhook.method.as_str().to_string()
                url=webhook.url
            />
        }
    });
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <dl class="divide-y divide-slate-100 text-sm" data-testid="summary">
                {row("Type", state.kind.label().into())}
                {row("Name", input.name.clone())}
                {row("Description", if input.description.is_empty() { "—".into() } else { input.description.clone() })}
                {row("Allowed IPs", if input.ip_acl_enabled { or_none(&input.allowed_ips) } else { "Any".into() })}
                {row("Tags", or_none(&input.tags))}
                {row("Default sender", sender.clone().unwrap_or_else(|| "Customized".into()))}
                {row("Demo Sending", if input.demo { "On".into() } else { "Off".into() })}
                {input
                    .demo
                    .then(|| {
                        row(
                            "Demo Outcomes",
                            if input.demo_predictable {
                                "Predictable".into()
                            } else {
                                "Random".into()
                            },
                        )
                    })}
                {otp}
                {whatsapp}
                {webhook_row}
            </dl>
            <div class="space-y-4">
                <RequestPreviewList kind=state.kind sender=sender.clone() />
                {webhook_preview}
            </div>
        </div>
    }
}
