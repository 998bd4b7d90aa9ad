//! A GET form, so filtering works without JavaScript and lands in the URL.

use super::*;

/// A GET form, so filtering works without JavaScript and lands in the URL.
#[component]
pub(super) fn MessageFilters(
    filter: MessageFilter,
    streams: Vec<(String, String)>,
) -> impl IntoView {
    let field = "mt-1 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
    let label = "flex flex-col text-xs font-medium text-slate-600";
    let option = |value: &str, text: &str, selected: bool| {
        view! { <option value=value.to_string() selected=selected>{text.to_string()}</option> }
    };
    view! {
        <form method="get" action="/messages" class="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter messages">
            <label class=label>
                "Stream"
                <select name="stream" class=field>
                    {option("", "All streams", filter.stream.is_empty())}
                    {streams.iter().map(|(id, name)| option(id, name, *id == filter.stream)).collect_view()}
                </select>
            </label>
            <label class=label>
                "Status"
                <select name="status" class=field>
                    {option("", "All statuses", filter.status.is_none())}
                    {MessageStatus::ALL.into_iter().map(|s| option(s.as_str(), s.as_str(), filter.status == Some(s))).collect_view()}
                </select>
            </label>
            <label class=label>
                "Direction"
                <select name="direction" class=field>
                    {option("", "Both", filter.direction.is_empty())}
                    {option("outbound", "Outbound", filter.direction == "outbound")}
                    {option("inbound", "Inbound", filter.direction == "inbound")}
                </select>
            </label>
            <label class=label>
                "Phone"
                <input type="search" name="phone" value=filter.phone.clone() placeholder="+4477…" class=format!("{field} w-40") />
            </label>
            <label class=label>
                "From"
                <input type="date" name="from" value=filter.from.clone() class=field />
            </label>
            <label class=label>
                "To"
                <input type="date" name="to" value=filter.to.clone() class=field />
            </label>
            <label class=label>
                "Per page"
                <select name="per_page" class=field>
                    {PAGE_SIZES.into_iter().map(|n| option(&n.to_string(), &n.to_string(), n == filter.per_page)).collect_view()}
                </select>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50">"Apply"</button>
            <a href="/messages" class="px-2 py-2 text-sm text-indigo-600 hover:underline">"Clear"</a>
        </form>
    }
}
