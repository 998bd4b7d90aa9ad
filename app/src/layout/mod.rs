//! The console frame around every signed-in page.

mod logo;
mod page_error;

pub use self::logo::Logo;
use self::page_error::PageError;

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
