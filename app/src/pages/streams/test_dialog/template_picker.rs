//! The template a WhatsApp test sends and a field for each of its `{{n}}` parameters.

use super::*;

/// The template a WhatsApp test sends and a field for each of its `{{n}}` parameters.
#[component]
pub(super) fn TemplatePicker(
    templates: LocalResource<Result<Vec<WhatsAppTemplate>, AppError>>,
    template: RwSignal<Option<WhatsAppTemplate>>,
    variables: RwSignal<Vec<String>>,
) -> impl IntoView {
    let choose = move |list: &[WhatsAppTemplate], index: usize| {
        let chosen = list.get(index).cloned();
        variables.set(vec![
            String::new();
            chosen
                .as_ref()
                .map_or(0, WhatsAppTemplate::parameter_count)
        ]);
        template.set(chosen);
    };
    move || match templates.get() {
        None => view! { <p class="text-slate-500">"Loading templates…"</p> }.into_any(),
        Some(Err(error)) => {
            view! { <p role="alert" class="text-red-700">{error.message}</p> }.into_any()
        }
        Some(Ok(list)) if list.is_empty() => view! {
            <p role="alert" class="text-amber-700">
                "This stream has no templates yet: add one in its WhatsApp tab, then test it."
            </p>
        }
        .into_any(),
        Some(Ok(list)) => {
            if template.get_untracked().is_none() {
                choose(&list, 0);
            }
            let options = list.clone();
            view! {
                <Field id="test-template" label="Template" error=Signal::stored(None::<String>)>
                    <select
                        id="test-template"
                        class=INPUT
                        on:change=move |event| {
                            if let Ok(index) = event_target_value(&event).parse() {
                                choose(&list, index);
                            }
                        }
                    >
                        {options.iter().enumerate().map(|(index, t)| view! {
                            <option value=index.to_string()>{format!("{} ({})", t.name, t.language)}</option>
                        }).collect_view()}
                    </select>
                </Field>
                <p class="text-xs text-slate-500" data-testid="test-template-body">
                    {move || template.get().map(|t| t.body)}
                </p>
                {move || (0..variables.with(Vec::len)).map(|n| {
                    let id = format!("test-variable-{}", n + 1);
                    view! {
                        <div>
                            <label for=id.clone() class="mb-1 block text-sm font-medium text-slate-700">
                                {format!("Parameter {{{{{}}}}}", n + 1)}
                            </label>
                            <input
                                id=id
                                class=INPUT
                                prop:value=move || variables.with(|v| v.get(n).cloned().unwrap_or_default())
                                on:input=move |event| {
                                    let value = event_target_value(&event);
                                    variables.update(|v| if let Some(slot) = v.get_mut(n) { *slot = value; });
                                }
                            />
                        </div>
                    }
                }).collect_view()}
            }
            .into_any()
        }
    }
}
