"""The shared selection (corpus, N, split, example, t, seed), kept in ``st.session_state`` and
mirrored into the URL (``st.query_params``) so any view can be shared as a link.

The first run of a session reads the URL; every later change goes through ``update``. A link is
typed by people and pasted from anywhere, so each value is checked (``parse``, ``RULES``): one that is
not valid falls back to its default and leaves a note (``url_notes``) that the entry script shows.

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
MAX_INT = 2**31 - 1  # largest N, example index and seed a link may carry (the seed widgets' maximum)
# What a value from a link must be once cast with KEYS: a test, and the words for the note when it fails.
RULES = {
    "corpus": (lambda v: 0 < len(v) <= 256 and v.isprintable(), "a corpus name of at most 256 characters"),
    "n": (lambda v: 0 <= v <= MAX_INT, f"a training-set size, a whole number up to {MAX_INT:,}"),
    "split": (lambda v: v in ("train", "test"), "'train' or 'test'"),
    "example": (lambda v: 0 <= v <= MAX_INT, f"an example's index, a whole number up to {MAX_INT:,}"),
    "t": (lambda v: 0 < v <= 1, "a corruption level in (0, 1]"),  # NaN fails every comparison
    "seed": (lambda v: 0 <= v <= MAX_INT, f"a seed, a whole number up to {MAX_INT:,}"),
}
FALLBACKS = {key: f"{key} = {value}" for key, value in DEFAULTS.items()} | {"n": "the smallest N"}


def parse(key: str, raw: str):
    """The selection value ``key`` written as ``raw`` in a link, or None when it is not a valid one
    (not a number, not finite, out of range: see ``RULES``)."""
    try:
        value = KEYS[key](raw)
    except (TypeError, ValueError, OverflowError):  # int() of a number with over 4,300 digits too
        return None
    valid, _ = RULES[key]
    return value if valid(value) else None


def literal(text: str, width: int = 40) -> str:
    """``text`` as inline code for a message: shortened to ``width`` characters, control characters
    escaped, so that whatever a link holds is shown as typed and never rendered as markdown."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    text = text if len(text) <= width else text[:width - 1] + "…"
    return "`" + text.replace("`", "'") + "`"


def _note(message: str) -> None:
    st.session_state.setdefault("_url_notes", []).append(message)


def init() -> None:
    """Seed session state from the URL once per session; a value that is not valid falls back to
    its default, with a note."""
    if st.session_state.get("_state_ready"):
        return
    for key in KEYS:
        raw = st.query_params.get(key)
        value = None if raw is None else parse(key, raw)
        if raw is not None and value is None:
            _note(f"Ignored {literal(f'{key}={raw}')} from the link: {key} must be {RULES[key][1]}. "
                  f"Using {FALLBACKS[key]}.")
        st.session_state[f"sel_{key}"] = DEFAULTS[key] if value is None else value
    # the page named in the first URL (``?page=basins``), for the entry script to honour once
    st.session_state["_url_page"] = st.query_params.get("page")
    st.session_state["_state_ready"] = True


def url_notes() -> list[str]:
    """What the session's first URL got wrong, one message per value, returned once, then forgotten."""
    init()
    return st.session_state.pop("_url_notes", [])


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


def url_page(pages) -> str | None:
    """The page the session's first URL asked for (``?page=...``) when it is one of ``pages`` (url
    paths), returned once, then forgotten; any other value leaves a note."""
    init()
    page = st.session_state.pop("_url_page", None)
    if page is None or page in pages:
        return page
    _note(f"Ignored {literal(f'page={page}')} from the link: there is no such page (the pages are "
          f"{', '.join(pages)}).")
    return None


def sync_url(page: str | None = None) -> None:
    """Write the whole selection (and the page's url path, if given, else the last one given) into
    the query string."""
    init()
    if page:
        st.session_state["_page"] = page
    wanted = params()
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
