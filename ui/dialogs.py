"""The one confirmation dialog: say what an irreversible write does, run it on "Yes", show why it failed."""

from collections.abc import Callable

import streamlit as st

from core.errors import ContactsError


def confirm(
    title: str,
    message: str,
    confirm_label: str,
    on_confirm: Callable[[], None],
    *,
    icon: str | None = None,
) -> None:
    """Open a modal that says `message`; its confirm button runs `on_confirm`, then reruns the page.

    Call it when the button that asks for the write is clicked. The dialog reruns alone on its own
    buttons, with the arguments of that call, so `on_confirm` opens its own cursor (`db()`) rather than
    closing over one of the run that opened it. `on_confirm` writes all or nothing: a ContactsError it
    raises is shown in the dialog as "… Nothing was changed." and the dialog stays open.
    """
    st.dialog(title, icon=icon)(_confirmation)(message, confirm_label, on_confirm, icon)


def _confirmation(message: str, confirm_label: str, on_confirm: Callable[[], None], icon: str | None) -> None:
    st.write(message)
    buttons = st.columns(2)
    if buttons[1].button("Cancel", width="stretch"):
        st.rerun()
    if buttons[0].button(confirm_label, type="primary", icon=icon, width="stretch"):
        try:
            on_confirm()
        except ContactsError as error:
            st.error(f"{error.message} Nothing was changed.", icon=":material/error:")
            return
        st.rerun()
