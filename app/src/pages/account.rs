use leptos::prelude::*;

use super::page_header::PageHeader;
use crate::auth::account_members;

/// The signed-in user's account and its members.
#[component]
pub fn AccountPage() -> impl IntoView {
    let members = Resource::new(|| (), |_| account_members());

    view! {
        <PageHeader title="Account" description="The people who can sign in to this account." />
        <div class="overflow-hidden rounded-xl border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Email"</th>
                        <th scope="col" class="px-4 py-3">"Role"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100" data-testid="members">
                    <Suspense fallback=|| view! { <tr><td class="px-4 py-3 text-slate-400" colspan="2">"Loading…"</td></tr> }>
                        {move || Suspend::new(async move {
                            members.await.map(|members| {
                                members
                                    .into_iter()
                                    .map(|member| {
                                        view! {
                                            <tr>
                                                <td class="px-4 py-3">{member.email}</td>
                                                <td class="px-4 py-3 capitalize text-slate-600">{member.role}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                            })
                        })}
                    </Suspense>
                </tbody>
            </table>
        </div>
    }
}
