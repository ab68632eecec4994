"""``bind``: the one way a widget keeps its value across pages. Streamlit forgets the value of a
widget that a run did not draw, so a page switch resets every widget of the page left; ``bind`` writes
the widget's key from where its value lives (the shared selection or view setting it shows, else the
store of page-private values) before the widget is drawn, and its ``on_change`` writes the new value
back (and the URL with it).
"""
from __future__ import annotations

import streamlit as st

from explorer.state.keys import PRIVATE
from explorer.state.link import LINKED, literal
from explorer.state.session import KEPT, get, init, kept, sync_url, update


def bind(key: str, shared: str | None = None, *, shown=None, options=None, default=None) -> dict:
    """Keyword arguments (``key``, ``on_change``) for a widget whose value outlives page switches.

    shared: the selection value or view setting the widget shows and sets (``shown``: the value to
        show instead, e.g. one clamped into the widget's range; the shared value is not changed);
    otherwise the widget is page-private: ``key`` must be named in ``PRIVATE`` and its kept value
        is shown — or ``default`` (else its PRIVATE default, else the first option) when the kept
        value is not among ``options`` (a list of values; for a multiselect, any subset of them);
        without options, ``default`` is shown while nothing is kept (a PRIVATE default of None).

    Pass no ``value``/``index`` to the widget: its key is assigned here, before it is drawn."""
    init()
    if shared is not None:
        value = get(shared) if shown is None else shown
        callback, args = _push, (shared, key)
    else:
        if key not in PRIVATE:
            raise KeyError(f"{key!r} is not a page-private key named in explorer.state.PRIVATE")
        value = kept(key)
        if value is None and options is None and default is not None:
            value = default
        elif options is not None and not _among(value, options):
            fallback = PRIVATE[key] if default is None else default
            value = fallback if _among(fallback, options) else (options[0] if options else None)
            if key in LINKED:   # the link shows what the widget shows: its default, not a value it cannot show
                _unavailable(key)
        st.session_state.get("_link_unchecked", set()).discard(key)
        callback, args = _keep, (key,)
    st.session_state[key] = value
    return {"key": key, "on_change": callback, "args": args}


def _among(value, options) -> bool:
    if isinstance(value, list):
        return all(v in options for v in value)
    return value in options


def _push(name: str, key: str) -> None:
    update(**{name: st.session_state[key]})


def _keep(key: str) -> None:
    st.session_state[KEPT + key] = st.session_state[key]
    if key in LINKED:
        sync_url()


def _unavailable(key: str) -> None:
    """A linked value the page does not offer (now) is dropped; when it came from the link and this
    is the first time a page shows it, a note says so (the entry script has shown its notes already)."""
    link = LINKED[key]
    if key in st.session_state.get("_link_unchecked", set()):
        raw = link.write(kept(key))
        st.sidebar.warning(f"Ignored {literal(f'{link.name}={raw}')} from the link: {link.name} must be "
                           f"{link.words}. Using {link.fallback}.", icon=":material/link_off:")
    st.session_state.pop(KEPT + key, None)
    sync_url()
