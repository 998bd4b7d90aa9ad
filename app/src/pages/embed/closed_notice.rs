//! The `ClosedNotice` component: what a widget shows once its key opens nothing.

use super::*;

#[component]
pub(super) fn ClosedNotice(closed: Closed) -> impl IntoView {
    let title = match closed {
        Closed::NotFound => "Widget not found",
        Closed::Revoked => "Widget revoked",
        Closed::Expired => "Widget expired",
    };
    view! {
        <section role="status" aria-live="polite" data-testid="widget-closed" data-closed=format!("{closed:?}").to_lowercase()>
            <h1 class="font-semibold">{title}</h1>
            <p class="mt-1 opacity-80">{closed.message()}</p>
        </section>
    }
}
