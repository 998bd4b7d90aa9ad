use leptos::prelude::*;

use crate::{
    components::{Field, INPUT, TextField, error_of},
    error::AppError,
    streams::settings::{OtpCodeSource, OtpSettings},
};

/// The OTP settings being edited.
#[derive(Debug, Clone, Copy)]
pub struct OtpForm {
    pub source: RwSignal<OtpCodeSource>,
    pub code_length: RwSignal<String>,
    pub ttl_seconds: RwSignal<String>,
    pub max_failures: RwSignal<String>,
    pub per_phone_hour: RwSignal<String>,
    pub per_phone_day: RwSignal<String>,
    pub per_stream_hour: RwSignal<String>,
    pub per_range_burst: RwSignal<String>,
    pub template: RwSignal<String>,
}

impl OtpForm {
    pub fn new(settings: OtpSettings) -> Self {
        Self {
            source: RwSignal::new(settings.source),
            code_length: RwSignal::new(settings.code_length.to_string()),
            ttl_seconds: RwSignal::new(settings.ttl_seconds.to_string()),
            max_failures: RwSignal::new(settings.max_failures.to_string()),
            per_phone_hour: RwSignal::new(settings.per_phone_hour.to_string()),
            per_phone_day: RwSignal::new(settings.per_phone_day.to_string()),
            per_stream_hour: RwSignal::new(settings.per_stream_hour.to_string()),
            per_range_burst: RwSignal::new(settings.per_range_burst.to_string()),
            template: RwSignal::new(settings.template),
        }
    }

    /// The settings typed so far; numbers that do not parse fail the server's range check.
    pub fn settings(&self) -> OtpSettings {
        let number = |text: RwSignal<String>| text.get_untracked().trim().parse().unwrap_or(0);
        OtpSettings {
            source: self.source.get_untracked(),
            code_length: number(self.code_length),
            ttl_seconds: number(self.ttl_seconds),
            max_failures: number(self.max_failures),
            per_phone_hour: number(self.per_phone_hour),
            per_phone_day: number(self.per_phone_day),
            per_stream_hour: number(self.per_stream_hour),
            per_range_burst: number(self.per_range_burst),
            template: self.template.get_untracked(),
        }
    }
}

/// Code source, length, lifetime, attempts, sending limits and the message template.
#[component]
pub fn OtpFields(form: OtpForm, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let number = move |id: &'static str,
                       label: &'static str,
                       hint: &'static str,
                       value: RwSignal<String>| {
        view! { <TextField id label hint value error field=id kind="number" inputmode="numeric" /> }
    };
    view! {
        <div class="space-y-5" data-testid="otp-settings">
            <fieldset>
                <legend class="mb-2 text-sm font-medium text-slate-700">"Code generation"</legend>
                <div class="space-y-2">
                    {OtpCodeSource::ALL.into_iter().map(|source| view! {
                        <label class="flex items-center gap-2 text-sm">
                            <input
                                type="radio"
                                name="otp-source"
                                value=source.as_str()
                                prop:checked=move || form.source.get() == source
                                on:change=move |_| form.source.set(source)
                            />
                            {source.label()}
                        </label>
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="grid gap-4 sm:grid-cols-3">
                {number("code_length", "Code length", "4 to 10 digits", form.code_length)}
                {number("ttl_seconds", "Code lifetime (seconds)", "30 s to 24 h", form.ttl_seconds)}
                {number("max_failures", "Maximum failed checks", "Then the code is void", form.max_failures)}
            </div>
            <div class="grid gap-4 sm:grid-cols-2">
                {number("per_phone_hour", "Codes per phone per hour", "", form.per_phone_hour)}
                {number("per_phone_day", "Codes per phone per day", "", form.per_phone_day)}
            </div>
            <div class="grid gap-4 sm:grid-cols-2">
                {number("per_stream_hour", "Codes per hour for the stream", "Every number together", form.per_stream_hour)}
                {number("per_range_burst", "Codes to one number range per 10 minutes", "More pause the range: a sign of SMS pumping", form.per_range_burst)}
            </div>
            <Show when=move || form.source.get() != OtpCodeSource::CustomerText>
                <Field
                    id="otp-template"
                    label="Message template"
                    hint="[code] is replaced by the code."
                    error=error_of(error, "template")
                >
                    <textarea id="otp-template" rows="2" bind:value=form.template class=INPUT></textarea>
                </Field>
            </Show>
        </div>
    }
}
