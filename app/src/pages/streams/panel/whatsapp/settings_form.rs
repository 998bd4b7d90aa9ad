//! The `SettingsForm` component.

use super::*;

#[component]
pub(super) fn SettingsForm(id: StreamId, settings: WhatsAppSettings) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let form = WhatsAppForm::new(&settings);
    let (busy, error) = (RwSignal::new(false), RwSignal::new(None::<AppError>));
    let save = move |_| {
        let work = save_whatsapp(id.clone(), form.input());
        submit(busy, error, work, move |saved| {
            form.saved(&saved);
            toasts.show("WhatsApp settings saved.");
        });
    };
    view! {
        <section aria-labelledby="whatsapp-settings-title">
            <h3 id="whatsapp-settings-title" class="mb-4 text-sm font-semibold text-slate-900">"Settings and senders"</h3>
            <WhatsAppFields form error />
            <p class="mt-3 text-xs text-slate-500">"To update the token, paste the new one above and save."</p>
            <div class="mt-4 flex justify-end">
                <button type="button" class=PRIMARY disabled=move || busy.get() on:click=save>"Save WhatsApp settings"</button>
            </div>
        </section>
    }
}
