//! Small building blocks shared by pages: dialogs, toasts, copy buttons.

mod copy_button;
mod dialog;
mod field;
mod toast;
mod token_dialog;

pub use self::{
    copy_button::CopyButton,
    dialog::{ConfirmDialog, Dialog, SidePanel},
    field::{Field, INPUT, TextField, error_of},
    toast::{ToastRegion, Toasts},
    token_dialog::TokenDialog,
};
