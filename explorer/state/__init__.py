"""The app's state, in one place: the shared selection (corpus, N, split, example, t, seed), two view
settings (presenter mode, the typed sentence), every page-private session key, and the one way a
widget keeps its value across pages (``bind``).

Selection and view settings live in ``st.session_state`` and are mirrored into the URL
(``st.query_params``) so that any view can be shared as a link. The first run of a session reads the
URL; every later change goes through ``update``. A link is typed by people and pasted from anywhere,
so each value is checked (``parse``, ``RULES``): one that is not valid falls back to its default and
leaves a note (``url_notes``) that the entry script shows.

Streamlit (1.67) clears the query string whenever the page changes (sidebar navigation, and
``st.switch_page`` unless it is handed ``query_params``), so the URL is never the source of truth after
the first run: session state is, and ``sync_url`` rewrites the URL from it on every run (the entry
script calls it with the current page's url path before running the page). A link therefore looks
like ``/basins?corpus=grammar&n=64&split=train&example=3&t=0.25&seed=0&page=basins`` (plus
``&present=1`` in presenter mode, ``&text=...`` while Denoise runs a typed sentence and
``&step=plugin`` while the paper's plug-in sampler is chosen instead of the exact step).

Some page-private values are part of what a view shows, so the link carries them too (``LINKED``),
each only while it differs from its default: ``compare=1`` (Denoise side by side), ``partner=...``
(its second model: ``step:plugin``/``step:exact``, ``ideal:memorizer``/``ideal:generalizer``, a zoo
entry relative to the zoo, e.g. ``grammar/n00032``, or ``run:`` and a what-if run relative to the
runs folder), ``mode=greedy`` (Denoise's steps), ``metric=exact_match`` (Transition), ``tool=box``
or ``tool=click`` (the Entropy map's selection tool), ``rows=40`` (its rows per split) and
``sel=train:0-3,7;test:2`` (the sequences chosen on its projection with the lasso or the box: per
split, examples and ranges in the order chosen). They are read from the link into the kept store on
the session's first run, checked like the rest (a partner that the page does not offer is noted
when the page draws its list), and written to the URL whenever they change.

The package, one concept a module: ``link`` (what a link carries and how each value is checked),
``keys`` (every page-private session key, named), ``session`` (the selection, view settings and kept
values in session state, mirrored into the URL) and ``binding`` (``bind``: the one way a widget keeps
its value across pages). Every name is importable from here as ``explorer.state.X``.
"""
from __future__ import annotations

from explorer.state.binding import bind
from explorer.state.keys import ELEMENTS, PRIVATE, SESSION
from explorer.state.link import (DEFAULTS, FALLBACKS, KEYS, LINKED, MAX_INT, MAX_LINKED, MAX_SELECTED, MAX_TEXT,
                                 RULES, VIEW, VIEW_DEFAULTS, Link, _model_key, _model_text, _points, _points_text,
                                 literal, parse)
from explorer.state.session import (get, in_link, init, keep, kept, params, presenting, sync_url, update,
                                    url_notes, url_page)

__all__ = ["bind", "ELEMENTS", "PRIVATE", "SESSION", "DEFAULTS", "FALLBACKS", "KEYS", "LINKED", "MAX_INT",
           "MAX_LINKED", "MAX_SELECTED", "MAX_TEXT", "RULES", "VIEW", "VIEW_DEFAULTS", "Link", "literal", "parse",
           "get", "in_link", "init", "keep", "kept", "params", "presenting", "sync_url", "update", "url_notes",
           "url_page"]
