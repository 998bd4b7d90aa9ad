//! The side panel's OTP tab: the stream's code settings.

mod otp_settings_form;
use self::otp_settings_form::OtpSettingsForm;
use leptos::prelude::*;

use crate::{
    components::Toasts,
    error::AppError,
    ids::StreamId,
    pages::streams::settings::{OtpFields, OtpForm, PRIMARY, submit},
    streams::{settings::OtpSettings, settings_api::save_otp_settings},
};

/// The OTP stream's code settings.
#[component]
pub fn OtpTab(id: StreamId, settings: OtpSettings) -> impl IntoView {
    view! { <OtpSettingsForm id form=OtpForm::new(settings) /> }
}
