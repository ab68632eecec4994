"""The shared selection (corpus, N, split, example, t, seed), kept in ``st.session_state`` and
mirrored into the URL (``st.query_params``) so any view can be shared as a link.

The first run of a session reads the URL; every later change goes through ``update``.

Streamlit (1.67) clears the query string whenever the page changes (sidebar navigation, and
``st.switch_page`` unless it is handed ``query_params``), so the URL is never the source of truth after
the first run: session state is, and ``sync_url`` rewrites the URL from it on every run (the entry
script calls it with the current page's url path before running the page). A link therefore looks
like ``/basins?corpus=grammar&n=64&split=train&example=3&t=0.25&seed=0&page=basins``.
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
    # the page named in the first URL (``?page=basins``), for the entry script to honour once
    st.session_state["_url_page"] = st.query_params.get("page")
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


def params(page: str | None = None) -> dict[str, str]:
    """The query string of the current selection (plus ``page``: the given url path, else the last
    one ``sync_url`` was told) — hand it to ``st.switch_page`` / ``st.page_link`` as ``query_params``."""
    init()
    out = {key: str(st.session_state[f"sel_{key}"]) for key in KEYS}
    page = page or st.session_state.get("_page")
    if page:
        out["page"] = page
    return out


def url_page() -> str | None:
    """The page the session's first URL asked for (``?page=...``), returned once, then forgotten."""
    init()
    return st.session_state.pop("_url_page", None)


def sync_url(page: str | None = None) -> None:
    """Write the whole selection (and the page's url path, if given, else the last one given) into
    the query string."""
    init()
    if page:
        st.session_state["_page"] = page
    wanted = params()
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
