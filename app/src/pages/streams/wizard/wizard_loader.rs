//! The `WizardLoader` component.

use super::*;

#[component]
pub(super) fn WizardLoader(data: Resource<Result<WizardData, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                data.await.map(|data| {
                    view! {
                        <StreamWizard
                            kind=data.kind
                            existing=data.existing
                            tags=data.tags
                            sender_ids=data.sender_ids
                            settings=data.settings
                        />
                    }
                })
            })}
        </Suspense>
    }
}
