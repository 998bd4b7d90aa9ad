use leptos::prelude::*;

/// A short message after every action, announced to screen readers.
#[derive(Debug, Clone, Copy)]
pub struct Toasts(RwSignal<Option<(u64, String)>>);

impl Toasts {
    pub fn provide() -> Self {
        let toasts = Self(RwSignal::new(None));
        provide_context(toasts);
        toasts
    }

    pub fn show(&self, message: impl Into<String>) {
        let serial = self.0.get_untracked().map_or(0, |(n, _)| n + 1);
        self.0.set(Some((serial, message.into())));
        let signal = self.0;
        set_timeout(
            move || {
                if signal.get_untracked().is_some_and(|(n, _)| n == serial) {
                    signal.set(None);
                }
            },
            std::time::Duration::from_secs(4),
        );
    }
}

/// Shows the latest toast in the bottom corner.
#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div
            role="status"
            aria-live="polite"
            data-testid="toast"
            class="pointer-events-none fixed right-4 bottom-4 z-50 max-w-sm"
        >
            {move || {
                toasts
                    .0
                    .get()
                    .map(|(_, message)| {
                        view! {
                            <p class="rounded-lg bg-slate-900 px-4 py-3 text-sm text-white shadow-lg">
                                {message}
                            </p>
                        }
                    })
            }}
        </div>
    }
}
