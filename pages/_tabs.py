"""Tabs that draw only the open one.

Plain ``st.tabs`` runs and sends every tab's content on every run, so a page with six studies or
three charts behind tabs paid for all of them, in the app and in the browser, to show one. These
tabs keep state (``on_change="rerun"``): switching tabs reruns the page, and only the open tab's
content is drawn. The open tab outlives a visit to another page: Streamlit drops a widget's key
while another page shows, so its label is also kept under ``<key>_open``, which is no widget's.
"""

from collections.abc import Callable

import streamlit as st


def draw_open(key: str, sections: dict[str, Callable[[], None]]) -> str:
    """Tabs labelled by ``sections``' keys, under the widget key ``key``; run the open tab's drawing
    function inside it, and no other. Returns the open tab's label."""
    remembered = f"{key}_open"
    if key not in st.session_state and st.session_state.get(remembered) in sections:
        st.session_state[key] = st.session_state[remembered]  # back from another page: the tab left open
    tabs = st.tabs(list(sections), key=key, on_change="rerun")
    opened = next(label for tab, label in zip(tabs, sections) if tab.open)
    st.session_state[remembered] = opened
    for tab, draw in zip(tabs, sections.values()):
        if tab.open:
            with tab:
                draw()
    return opened
