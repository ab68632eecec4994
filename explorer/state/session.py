"""The session's selection, view settings and kept page-private values, and the URL that mirrors
them. The first run of a session reads the URL (``init``: a value that is not valid falls back to its
default and leaves a note, ``url_notes``); every later change goes through ``update`` or ``keep``, and
``sync_url`` rewrites the URL from session state, which is the source of truth after the first run
(Streamlit clears the query string whenever the page changes).
"""
from __future__ import annotations

import streamlit as st

from engine.diffusion.step import DEFAULT_STEP, STEPS

from explorer.state.keys import PRIVATE
from explorer.state.link import (DEFAULTS, FALLBACKS, KEYS, LINKED, MAX_LINKED, MAX_TEXT, RULES, VIEW,
                                 VIEW_DEFAULTS, literal, parse)

KEPT = "kept_"   # prefix of the store of PRIVATE values in session state


def _note(message: str) -> None:
    st.session_state.setdefault("_url_notes", []).append(message)


def _slot(key: str) -> str:
    return f"sel_{key}" if key in KEYS else f"view_{key}"


def init() -> None:
    """Seed session state from the URL once per session; a value that is not valid falls back to
    its default, with a note."""
    if st.session_state.get("_state_ready"):
        return
    for key, default in {**DEFAULTS, **VIEW_DEFAULTS}.items():
        raw = st.query_params.get(key)
        value = None if raw is None else parse(key, raw)
        if raw is not None and value is None:
            _note(f"Ignored {literal(f'{key}={raw}')} from the link: {key} must be {RULES[key][1]}. "
                  f"Using {FALLBACKS[key]}.")
        st.session_state[_slot(key)] = default if value is None else value
    if st.session_state[_slot("text")] is not None:
        st.session_state["dn_typed"] = st.session_state[_slot("text")]
    for key, link in LINKED.items():
        raw = st.query_params.get(link.name)
        if raw is None:
            continue
        try:
            value = link.read(raw)
            ok = link.valid(value)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if ok:
            st.session_state[KEPT + key] = value
            st.session_state.setdefault("_link_unchecked", set()).add(key)   # bind checks it against the options
        else:
            _note(f"Ignored {literal(f'{link.name}={raw}')} from the link: {link.name} must be {link.words}. "
                  f"Using {link.fallback}.")
    # the page named in the first URL (``?page=basins``), for the entry script to honour once
    st.session_state["_url_page"] = st.query_params.get("page")
    st.session_state["_state_ready"] = True


def url_notes() -> list[str]:
    """What the session's first URL got wrong, one message per value, returned once, then forgotten."""
    init()
    return st.session_state.pop("_url_notes", [])


def get(key: str):
    """The shared selection value or view setting ``key``; ``source`` (what Denoise starts from) is
    'text' while a typed sentence is chosen, else the split."""
    init()
    if key == "source":
        return "text" if get("text") is not None else get("split")
    if key in VIEW:   # a session seeded before the view settings existed (or by a test) has none
        return st.session_state.get(_slot(key), VIEW_DEFAULTS[key])
    return st.session_state[_slot(key)]


def presenting() -> bool:
    """Whether presenter mode is on (larger type and markers, short captions)."""
    return bool(get("present"))


def update(**values) -> None:
    """Change the selection and view settings, and the URL with them. Choosing another example
    (split or example) leaves a typed sentence: the example is what the user now looks at."""
    init()
    source = values.pop("source", None)
    if source == "text":
        values.setdefault("text", st.session_state.get("dn_typed", ""))
    elif source is not None:
        values["split"] = source
    if ("split" in values or "example" in values) and "text" not in values:
        values["text"] = None
    if any(k in values and KEYS[k](values[k]) != st.session_state[_slot(k)] for k in ("corpus", "n")):
        st.session_state.pop(KEPT + "em_selected", None)   # a selection names another model's sequences
    for key, value in values.items():
        if key in KEYS:
            st.session_state[_slot(key)] = KEYS[key](value)
        elif key == "text":
            st.session_state[_slot(key)] = None if value is None else str(value)
            if value is not None:
                st.session_state["dn_typed"] = str(value)
        elif key == "present":
            st.session_state[_slot(key)] = bool(value)
        elif key == "step":
            st.session_state[_slot(key)] = str(value) if value in STEPS else DEFAULT_STEP
        else:
            raise KeyError(key)
    sync_url()


def kept(key: str):
    """The kept value of the page-private widget ``key`` (its default until it is changed)."""
    return st.session_state.get(KEPT + key, PRIVATE[key])


def keep(key: str, value) -> None:
    """Keep ``value`` as the page-private value ``key`` (one that no widget holds, e.g. the Entropy
    map's selection), and the URL with it when the link carries it."""
    if key not in PRIVATE:
        raise KeyError(f"{key!r} is not a page-private key named in explorer.state.PRIVATE")
    if kept(key) != value:
        st.session_state[KEPT + key] = value
        if key in LINKED:
            sync_url()


def params(page: str | None = None) -> dict[str, str]:
    """The query string of the current selection and view settings (plus ``page``: the given url
    path, else the last one ``sync_url`` was told) — hand it to ``st.switch_page`` / ``st.page_link``
    as ``query_params``."""
    init()
    out = {key: str(st.session_state[_slot(key)]) for key in KEYS}
    if get("present"):
        out["present"] = "1"
    text = get("text")
    if text is not None and len(text) <= MAX_TEXT:
        out["text"] = text
    if get("step") != DEFAULT_STEP:
        out["step"] = get("step")
    for key, link in LINKED.items():
        value = kept(key)
        if value != PRIVATE[key] and len(text := link.write(value)) <= MAX_LINKED:
            out[link.name] = text
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


def in_link(key: str) -> bool:
    """Whether the link carries the page-private value ``key`` as it is now (a value at its default
    needs no place in it; a selection longer than MAX_LINKED characters of text has none)."""
    value = kept(key)
    return value == PRIVATE[key] or len(LINKED[key].write(value)) <= MAX_LINKED


def sync_url(page: str | None = None) -> None:
    """Write the whole selection, the view settings and the linked page-private values (and the
    page's url path, if given, else the last one given) into the query string."""
    init()
    if page:
        st.session_state["_page"] = page
    wanted = params()
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
