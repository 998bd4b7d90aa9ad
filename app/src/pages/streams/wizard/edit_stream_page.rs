//! `/streams/:id/edit`

use super::*;

/// `/streams/:id/edit`
#[component]
pub fn EditStreamPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        |id| async move {
            let stream = get_stream(StreamId::from(id)).await?;
            WizardData::load(stream.kind, Some(stream)).await
        },
    );
    view! { <WizardLoader data /> }
}
