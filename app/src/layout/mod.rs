//! The console frame around every signed-in page.

mod nav;
mod user_menu;

use leptos::prelude::*;
use leptos_router::components::Outlet;

use self::{nav::Nav, user_menu::UserMenu};
use crate::{
    auth::get_current_user,
    components::{ToastRegion, Toasts},
};

/// Sidebar navigation, top bar with the user menu, and the page in an error boundary.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| get_current_user());
    let toasts = Toasts::provide();

    view! {
        <div class="min-h-full md:flex">
            <aside class="border-b border-slate-200 bg-white md:fixed md:inset-y-0 md:w-60 md:border-r md:border-b-0">
                <div class="flex h-14 items-center gap-2 px-4">
                    <Logo />
                    <span class="text-lg font-semibold tracking-tight">"Sluice"</span>
                </div>
                <Nav />
            </aside>
            <div class="flex min-w-0 flex-1 flex-col md:pl-60">
                <header class="flex h-14 items-center justify-end gap-3 border-b border-slate-200 bg-white px-4 sm:px-6">
                    <Transition fallback=|| {
                        view! { <span class="h-8 w-40 animate-pulse rounded bg-slate-100"></span> }
                    }>
                        {move || Suspend::new(async move {
                            match user.await {
                                Ok(Some(user)) => view! { <UserMenu user /> }.into_any(),
                                _ => {
                                    view! {
                                        <a href="/sign-in" class="text-sm font-medium text-indigo-600 hover:underline">
                                            "Sign in"
                                        </a>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Transition>
                </header>
                <main class="flex-1 px-4 py-6 sm:px-6 lg:px-8">
                    <ErrorBoundary fallback=|errors| {
                        view! { <PageError errors /> }
                    }>
                        <Outlet />
                    </ErrorBoundary>
                </main>
            </div>
            <ToastRegion toasts />
        </div>
    }
}

#[component]
fn PageError(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800">
            <p class="font-medium">"This page could not be shown."</p>
            <ul class="mt-2 list-disc pl-5">
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The Sluice mark: a gate over flowing water.
#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="h-7 w-7 text-indigo-600" viewBox="0 0 24 24" fill="none" aria-hidden="true">
            <rect x="3" y="3" width="18" height="18" rx="5" fill="currentColor" />
            <path
                d="M7 10c1.7-1.3 3.3-1.3 5 0s3.3 1.3 5 0M7 14c1.7-1.3 3.3-1.3 5 0s3.3 1.3 5 0"
                stroke="white"
                stroke-width="1.8"
                stroke-linecap="round"
            />
        </svg>
    }
}
