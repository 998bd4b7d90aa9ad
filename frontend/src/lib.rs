//! The browser entry point: hydrates the server-rendered console.
#![recursion_limit = "512"]

use leptos::{
    mount::hydrate_from_async,
    tachys::dom::{body, document},
};
use wasm_bindgen_futures::spawn_local;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Pages are lazily loaded routes: hydration waits for the shown page's code to arrive.
    spawn_local(async {
        hydrate_from_async(body(), app::App).await.forget();
        // Marks the page as interactive: until now, controls that need the app do nothing.
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
}
