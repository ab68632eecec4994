"""The shared selection (corpus, N, split, example, t, seed), kept in ``st.session_state`` and
mirrored into the URL (``st.query_params``) so any view can be shared as a link.

The first run of a session reads the URL; every later change goes through ``update``.
"""
from __future__ import annotations

import streamlit as st

KEYS = {"corpus": str, "n": int, "split": str, "example": int, "t": float, "seed": int}
DEFAULTS = {"corpus": "grammar", "n": 0, "split": "train", "example": 0, "t": 0.25, "seed": 0}
LEVEL_CHOICES = (0.05, 0.1, 0.25, 0.5, 1.0)


def init() -> None:
    """Seed session state from the URL once per session; bad URL values fall back to defaults."""
    if st.session_state.get("_state_ready"):
        return
    for key, cast in KEYS.items():
        raw = st.query_params.get(key)
        try:
            value = cast(raw) if raw is not None else DEFAULTS[key]
        except (TypeError, ValueError):
            value = DEFAULTS[key]
        st.session_state[f"sel_{key}"] = value
    st.session_state["_state_ready"] = True


def get(key: str):
    init()
    return st.session_state[f"sel_{key}"]


def update(**values) -> None:
    """Change the selection and the URL together."""
    init()
    for key, value in values.items():
        if key not in KEYS:
            raise KeyError(key)
        st.session_state[f"sel_{key}"] = KEYS[key](value)
    sync_url()


def sync_url(page: str | None = None) -> None:
    """Write the whole selection (and the page's url path, if given) into the query string."""
    params = {key: str(st.session_state[f"sel_{key}"]) for key in KEYS}
    if page:
        params["page"] = page
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
