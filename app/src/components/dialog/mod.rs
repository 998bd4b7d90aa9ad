//! Dialogs and side panels, modal for the keyboard: focus moves in, Tab stays inside, Escape
//! closes.

mod confirm_dialog;
mod side_panel;

pub use self::{confirm_dialog::ConfirmDialog, side_panel::SidePanel};
use leptos::{ev::KeyboardEvent, html, prelude::*};

/// What Tab can reach inside a dialog.
#[cfg(feature = "hydrate")]
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";

/// Makes `container` modal for the keyboard: focus moves in when it opens, Tab and Shift+Tab
/// cycle inside it, Escape calls `on_close`, and focus returns where it was when it closes.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
fn use_modal(container: NodeRef<html::Section>, on_close: Callback<()>) -> impl Fn(KeyboardEvent) {
    #[cfg(feature = "hydrate")]
    {
        let opener = StoredValue::new_local(
            web_sys::window()
                .and_then(|window| window.document())
                .and_then(|document| document.active_element()),
        );
        on_cleanup(move || {
            use leptos::wasm_bindgen::JsCast;
            if let Some(Ok(element)) = opener
                .try_get_value()
                .flatten()
                .map(|e| e.dyn_into::<web_sys::HtmlElement>())
            {
                let _ = element.focus();
            }
        });
        Effect::new(move |_| {
            if container.get().is_some() {
                // After the frame, so the dialog is in the document when it takes focus.
                request_animation_frame(move || {
                    let Some(section) = container.try_get_untracked().flatten() else {
                        return;
                    };
                    use leptos::wasm_bindgen::JsCast;
                    let autofocus = section.query_selector("[autofocus]").ok().flatten();
                    match autofocus.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                        Some(element) => drop(element.focus()),
                        None => drop(focusables(&section).into_iter().next().map(|e| e.focus())),
                    }
                });
            }
        });
    }
    move |event: KeyboardEvent| match event.key().as_str() {
        "Escape" => {
            event.stop_propagation();
            on_close.run(());
        }
        "Tab" =>
        {
            #[cfg(feature = "hydrate")]
            if let Some(section) = container.get_untracked() {
                keep_focus_inside(&section, &event);
            }
        }
        _ => {}
    }
}

#[cfg(feature = "hydrate")]
fn focusables(container: &web_sys::HtmlElement) -> Vec<web_sys::HtmlElement> {
    use leptos::wasm_bindgen::JsCast;
    let Ok(nodes) = container.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|index| nodes.item(index))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|element| element.offset_parent().is_some() || element.tag_name() == "SUMMARY")
        .collect()
}

#[cfg(feature = "hydrate")]
fn keep_focus_inside(container: &web_sys::HtmlElement, event: &KeyboardEvent) {
    let elements = focusables(container);
    let (Some(first), Some(last)) = (elements.first(), elements.last()) else {
        event.prevent_default();
        return;
    };
    let active = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.active_element());
    let is = |element: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|active| active == element.as_ref())
    };
    let inside = active
        .as_ref()
        .is_some_and(|active| container.contains(Some(active.as_ref())));
    if event.shift_key() && (is(first) || !inside) {
        event.prevent_default();
        let _ = last.focus();
    } else if !event.shift_key() && (is(last) || !inside) {
        event.prevent_default();
        let _ = first.focus();
    }
}

/// A modal dialog over the page; Escape and the backdrop close it, Tab stays inside.
#[component]
pub fn Dialog(
    title: String,
    on_close: Callback<()>,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    let label = title.clone();
    let container = NodeRef::<html::Section>::new();
    let on_keydown = use_modal(container, on_close);
    let width = if wide { "max-w-xl" } else { "max-w-md" };
    view! {
        <div class="fixed inset-0 z-40 flex items-center justify-center p-4">
            <div class="absolute inset-0 bg-slate-900/40" on:click=move |_| on_close.run(())></div>
            <section
                node_ref=container
                role="dialog"
                aria-modal="true"
                aria-label=label
                on:keydown=on_keydown
                class=format!("relative max-h-full w-full {width} overflow-y-auto rounded-xl bg-white p-6 shadow-xl")
            >
                <h2 class="text-lg font-semibold text-slate-900">{title}</h2>
                <div class="mt-3 text-sm text-slate-600">{children()}</div>
            </section>
        </div>
    }
}
