//! The `StatsWidget` component: the last hour's sent, delivered, failed and in-flight counts,
//! the delivery rate, and a bar per minute.

use super::*;
use crate::embed::{CHART_MINUTES, Minute};

/// The chart's size in SVG units.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 80.0;

/// A figure of the grid: its label, its test id, and where it comes from.
type Figure = (&'static str, &'static str, fn(&Snapshot) -> i64);

/// One bar per minute: sent, with the failed part in red, scaled to the busiest minute.
fn bars(chart: &[Minute]) -> Vec<(f64, f64, f64, f64)> {
    let highest = chart
        .iter()
        .map(|m| m.sent.max(m.failed))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = WIDTH / CHART_MINUTES as f64;
    chart
        .iter()
        .enumerate()
        .map(|(n, minute)| {
            let sent = minute.sent as f64 / highest * HEIGHT;
            let failed = minute.failed as f64 / highest * HEIGHT;
            (n as f64 * step, step * 0.7, sent, failed)
        })
        .collect()
}

#[component]
pub(super) fn StatsWidget(#[prop(into)] snapshot: Signal<Snapshot>, look: Look) -> impl IntoView {
    let muted = if look.dark {
        "text-slate-400"
    } else {
        "text-slate-500"
    };
    let tile = if look.dark {
        "bg-slate-800"
    } else {
        "bg-slate-50"
    };
    let tile_class = format!("rounded-md {tile} px-3 py-2");
    let number = move |pick: fn(&Snapshot) -> i64| move || pick(&snapshot.read()).to_string();
    let figures: [Figure; 4] = [
        ("Sent", "sent", |s| s.hour.sent),
        ("Delivered", "delivered", |s| s.hour.delivered),
        ("Failed", "failed", |s| s.hour.failed),
        ("In flight", "in-flight", |s| s.hour.in_flight),
    ];
    let rate = move || {
        snapshot
            .read()
            .hour
            .delivery_rate()
            .map_or("–".to_string(), |rate| format!("{rate}%"))
    };
    let label = move || {
        let snapshot = snapshot.read();
        format!(
            "Messages per minute over the last hour: {} sent, {} failed.",
            snapshot.hour.sent, snapshot.hour.failed
        )
    };
    view! {
        <section aria-labelledby="stats-title">
            <header class="flex items-baseline justify-between gap-2">
                <h1 id="stats-title" class="font-semibold">{move || snapshot.read().stream_name.clone()}</h1>
                <p class=muted>"Last hour"</p>
            </header>
            <dl class="mt-3 grid grid-cols-2 gap-2 sm:grid-cols-5">
                {figures
                    .into_iter()
                    .map(|(name, id, pick)| {
                        view! {
                            <div class=tile_class.clone()>
                                <dt class=muted>{name}</dt>
                                <dd class="text-lg font-semibold tabular-nums" data-testid=format!("stat-{id}")>{number(pick)}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
                <div class=tile_class.clone()>
                    <dt class=muted>"Delivery rate"</dt>
                    <dd class="text-lg font-semibold tabular-nums" style="color: var(--accent)" data-testid="stat-rate">{rate}</dd>
                </div>
            </dl>
            <svg
                class="mt-3 h-20 w-full"
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=label
                data-testid="stats-chart"
            >
                {move || {
                    bars(&snapshot.read().chart)
                        .into_iter()
                        .map(|(x, width, sent, failed)| {
                            view! {
                                <rect x=x y=HEIGHT - sent width=width height=sent style="fill: var(--accent)" />
                                <rect x=x y=HEIGHT - failed width=width height=failed class="fill-rose-500" />
                            }
                        })
                        .collect_view()
                }}
            </svg>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_busiest_minute() {
        let chart = vec![
            Minute {
                at: 0,
                sent: 4,
                delivered: 0,
                failed: 1,
            },
            Minute {
                at: 60_000,
                sent: 2,
                delivered: 0,
                failed: 0,
            },
        ];
        let drawn = bars(&chart);
        assert_eq!(drawn[0].2, HEIGHT);
        assert_eq!(drawn[0].3, HEIGHT / 4.0);
        assert_eq!(drawn[1].2, HEIGHT / 2.0);
        assert_eq!(drawn[1].0, WIDTH / CHART_MINUTES as f64);
    }
}
