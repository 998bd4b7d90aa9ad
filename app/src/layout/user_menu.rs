use leptos::prelude::*;

use crate::auth::CurrentUser;

/// The signed-in user's menu; a `<details>` so it opens by keyboard and without JavaScript.
#[component]
pub fn UserMenu(user: CurrentUser) -> impl IntoView {
    let initial = user
        .email
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('?');

    view! {
        <details class="group relative" data-testid="user-menu">
            <summary
                class="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1 text-sm hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-600"
                aria-label="Account menu"
            >
                <span class="flex h-8 w-8 items-center justify-center rounded-full bg-indigo-600 font-semibold text-white">
                    {initial.to_string()}
                </span>
                <span class="hidden max-w-48 truncate text-slate-700 sm:block">{user.email.clone()}</span>
            </summary>
            <div class="absolute right-0 z-20 mt-2 w-64 rounded-lg border border-slate-200 bg-white p-2 shadow-lg">
                <div class="border-b border-slate-100 px-3 py-2">
                    <p class="truncate text-sm font-medium text-slate-900">{user.email}</p>
                    <p class="truncate text-xs text-slate-500">{user.account_name}</p>
                </div>
                <a
                    href="/account"
                    class="mt-1 block rounded-md px-3 py-2 text-sm text-slate-700 hover:bg-slate-100"
                >
                    "Account"
                </a>
                <form method="post" action="/auth/sign-out">
                    <button
                        type="submit"
                        class="block w-full rounded-md px-3 py-2 text-left text-sm text-slate-700 hover:bg-slate-100"
                    >
                        "Sign out"
                    </button>
                </form>
            </div>
        </details>
    }
}
