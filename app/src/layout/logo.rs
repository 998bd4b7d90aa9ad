//! The Sluice mark: a gate over flowing water.

use super::*;

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
