//! A stream's statistics: totals for 24 hours and 7 days, a bar per day, and its opt-outs.

mod opt_outs;
use self::opt_outs::OptOuts;
use leptos::prelude::*;

use crate::{
    messages::{Counts, StreamStats},
    time::rfc3339,
};

/// Totals for 24 hours and 7 days, and a bar per day of the last week.
#[component]
pub fn StatsPanel(stats: StreamStats) -> impl IntoView {
    let tiles = |label: &'static str, counts: Counts| {
        let figures = [
            ("Sent", counts.sent, "text-slate-900"),
            ("Delivered", counts.delivered, "text-emerald-700"),
            ("Failed", counts.failed, "text-red-700"),
            ("In flight", counts.in_flight, "text-sky-700"),
        ];
        view! {
            <div>
                <h4 class="mb-1 text-xs font-medium uppercase tracking-wide text-slate-500">{label}</h4>
                <dl class="grid grid-cols-4 gap-2">
                    {figures.into_iter().map(|(term, value, color)| view! {
                        <div class="rounded-lg border border-slate-200 p-2">
                            <dt class="text-xs text-slate-500">{term}</dt>
                            <dd class=format!("text-lg font-semibold {color}")>{value}</dd>
                        </div>
                    }).collect_view()}
                </dl>
            </div>
        }
    };
    let highest = stats
        .days
        .iter()
        .map(|(_, c)| c.sent)
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, bar) = (280.0, 100.0, 28.0);
    let scale = |n: i64| n as f64 / highest as f64 * (height - 16.0);
    let bars = stats
        .days
        .iter()
        .enumerate()
        .map(|(index, (day, counts))| {
            let x = 8.0 + index as f64 * 39.0;
            let mut top = height - 14.0;
            let mut segment = |n: i64, class: &'static str| {
                let h = scale(n);
                top -= h;
                view! { <rect x=x y=top width=bar height=h class=class></rect> }
            };
            let parts = [
                segment(counts.delivered, "fill-emerald-500"),
                segment(counts.failed, "fill-red-500"),
                segment(counts.in_flight, "fill-sky-400"),
            ];
            let label = rfc3339(*day)[5..10].to_string();
            view! {
                <g>
                    <title>{format!("{label}: {} sent, {} delivered, {} failed, {} in flight", counts.sent, counts.delivered, counts.failed, counts.in_flight)}</title>
                    {parts}
                    <text x=x + bar / 2.0 y=height - 2.0 text-anchor="middle" class="fill-slate-500 text-[9px]">{label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <section class="mb-6 space-y-4" aria-labelledby="stats-title" data-testid="stream-stats">
            <h3 id="stats-title" class="text-sm font-semibold text-slate-900">"Statistics"</h3>
            {tiles("Last 24 hours", stats.last_24h)}
            {tiles("Last 7 days", stats.last_7d)}
            <svg
                viewBox=format!("0 0 {width} {height}")
                class="h-32 w-full"
                role="img"
                aria-label="Messages per day over the last 7 days: delivered in green, failed in red, in flight in blue"
            >
                {bars}
            </svg>
            <OptOuts numbers=stats.opt_outs count=stats.opt_out_count />
        </section>
    }
}
