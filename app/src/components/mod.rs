//! Small building blocks shared by pages: dialogs, toasts, copy buttons.

mod copy_button;
mod data_table;
mod dialog;
mod field;
mod toast;
mod token_dialog;

pub use self::{
    copy_button::{CopyButton, CopyField},
    data_table::DataTable,
    dialog::{ConfirmDialog, Dialog, SidePanel},
    field::{Field, INPUT, TextField, error_of},
    toast::{ToastRegion, Toasts},
    token_dialog::TokenDialog,
};
