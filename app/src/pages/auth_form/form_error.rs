//! The form-wide error (one not tied to a field), as an alert.

use super::*;

/// The form-wide error (one not tied to a field), as an alert.
#[component]
pub fn FormError(error: Memo<Option<AuthError>>) -> impl IntoView {
    move || {
        error.get().filter(|error| error.field().is_none()).map(|error| {
            view! {
                <p
                    role="alert"
                    data-testid="form-error"
                    class="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800"
                >
                    {error.message()}
                </p>
            }
        })
    }
}
