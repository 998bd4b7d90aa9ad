//! Small building blocks shared by pages: dialogs, toasts, copy buttons.

mod copy_button;
mod dialog;
mod toast;

pub use self::{
    copy_button::CopyButton,
    dialog::{ConfirmDialog, Dialog},
    toast::{ToastRegion, Toasts},
};
