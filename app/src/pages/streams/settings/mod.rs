//! Forms for type-specific settings, shared by the wizard's steps and the side panel's tabs.

mod otp;
mod previews;
mod webhook;
mod whatsapp;

use leptos::{prelude::*, task::spawn_local};

pub use self::{
    otp::{OtpFields, OtpForm},
    previews::{RequestPreviewList, WebhookRequestPreview},
    webhook::{WebhookFields, WebhookForm},
    whatsapp::{WhatsAppFields, WhatsAppForm},
};
use crate::{components::Toasts, error::AppError};

/// Runs a save: disables the form while it runs, then hands the result to `done`, or shows the
/// error under its field (or as a toast when it belongs to no field).
pub fn submit<T: 'static>(
    busy: RwSignal<bool>,
    error: RwSignal<Option<AppError>>,
    work: impl Future<Output = Result<T, AppError>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    let toasts = expect_context::<Toasts>();
    busy.set(true);
    error.set(None);
    spawn_local(async move {
        match work.await {
            Ok(value) => done(value),
            Err(failure) => {
                if failure.field.is_none() {
                    toasts.show(failure.message.clone());
                }
                error.set(Some(failure));
            }
        }
        busy.set(false);
    });
}

/// The primary button of a form.
pub const PRIMARY: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-50";
/// A secondary button.
pub const SECONDARY: &str = "rounded-md border border-slate-300 px-4 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-50";
