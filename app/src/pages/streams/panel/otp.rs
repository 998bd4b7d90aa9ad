use leptos::prelude::*;

use crate::{
    components::Toasts,
    error::AppError,
    pages::stream_settings::{OtpFields, OtpForm, PRIMARY, submit},
    streams::settings_api::{get_otp_settings, save_otp_settings},
};

/// The OTP stream's code settings.
#[component]
pub fn OtpTab(id: String) -> impl IntoView {
    let settings = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        get_otp_settings,
    );
    let id = StoredValue::new(id);
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                settings.await.map(|settings| {
                    view! { <OtpSettingsForm id=id.get_value() form=OtpForm::new(settings) /> }
                })
            })}
        </Suspense>
    }
}

#[component]
fn OtpSettingsForm(id: String, form: OtpForm) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let save = move |_| {
        let work = save_otp_settings(id.clone(), form.settings());
        submit(busy, error, work, move |_| {
            toasts.show("OTP settings saved.")
        });
    };
    view! {
        <OtpFields form error />
        <div class="mt-6 flex justify-end">
            <button type="button" class=PRIMARY disabled=move || busy.get() on:click=save>
                "Save settings"
            </button>
        </div>
    }
}
