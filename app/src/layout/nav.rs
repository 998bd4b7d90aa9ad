use leptos::prelude::*;
use leptos_router::components::A;

/// The console's sections, in sidebar order: (path, label, icon path data).
const SECTIONS: [(&str, &str, &str); 6] = [
    ("/streams", "Streams API", "M4 6h16M4 12h16M4 18h10"),
    ("/realtime", "Realtime", "M3 12h4l3-8 4 16 3-8h4"),
    ("/messages", "Messages", "M4 5h16v11H8l-4 4z"),
    (
        "/sender-ids",
        "Sender IDs",
        "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8a7 7 0 0 1 14 0",
    ),
    ("/connections", "Connections", "M7 7h10v4H7zm5 4v6m-4 0h8"),
    (
        "/api-docs",
        "API docs",
        "M8 8l-4 4 4 4m8-8l4 4-4 4m-6 3l4-14",
    ),
];

/// The main navigation: a column on wide screens, a scrolling row on phones.
#[component]
pub fn Nav() -> impl IntoView {
    view! {
        <nav aria-label="Main" class="overflow-x-auto px-2 pb-2 md:pb-0">
            <ul class="flex gap-1 md:flex-col">
                {SECTIONS
                    .into_iter()
                    .map(|(href, label, icon)| {
                        view! {
                            <li>
                                <A
                                    href=href
                                    attr:class="flex items-center gap-3 whitespace-nowrap rounded-md px-3 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-600 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
                                >
                                    <svg
                                        class="h-5 w-5 shrink-0"
                                        viewBox="0 0 24 24"
                                        fill="none"
                                        stroke="currentColor"
                                        stroke-width="1.8"
                                        stroke-linecap="round"
                                        stroke-linejoin="round"
                                        aria-hidden="true"
                                    >
                                        <path d=icon />
                                    </svg>
                                    {label}
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
