//! The `OtpSettingsForm` component.

use super::*;

#[component]
pub(super) fn OtpSettingsForm(id: StreamId, form: OtpForm) -> impl IntoView {
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
