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

Widgets: Streamlit forgets the value of a widget that a run did not draw, so a page switch resets
every widget of the page left. ``bind(key, ...)`` is the one mechanism that keeps them: it writes the
widget's key from where its value lives (the shared selection or view setting it shows, else this
module's store of page-private values) before the widget is drawn, and its ``on_change`` writes the
new value back. Every page-private key is named in ``PRIVATE`` (kept widget values, with their
defaults), ``SESSION`` (other per-session values) or ``ELEMENTS`` (keys of charts, tables and buttons,
whose values are events, never kept).
"""
from __future__ import annotations

import streamlit as st

from collections.abc import Callable
from dataclasses import dataclass

from engine.text import corpora
from engine.diffusion.step import DEFAULT_STEP, STEPS
from engine.measures.transition import METRICS

KEYS = {"corpus": str, "n": int, "split": str, "example": int, "t": float, "seed": int}
DEFAULTS = {"corpus": "grammar", "n": 0, "split": "train", "example": 0, "t": 0.25, "seed": 0}
MAX_INT = 2**31 - 1  # largest N, example index and seed a link may carry (the seed widgets' maximum)
MAX_TEXT = 300       # longest typed sentence a link carries (far more than any sequence length holds)
MAX_SELECTED = 5_000  # most sequences a link's selection on the Entropy map may name
MAX_LINKED = 4_000    # longest text of one page-private value in a link (a longer selection stays out of it)


def _flag(raw: str) -> bool:
    """'1'/'true'/'on'/'yes' -> True, '0'/'false'/'off'/'no' -> False (any case); else ValueError."""
    word = raw.strip().lower()
    if word in ("1", "true", "on", "yes"):
        return True
    if word in ("0", "false", "off", "no"):
        return False
    raise ValueError(raw)


# View settings: in the URL only when not at their default (present=1, text=...); text None = Denoise
# is not running a typed sentence, "" = it is, but nothing is typed yet.
VIEW = {"present": _flag, "text": str, "step": str}
VIEW_DEFAULTS = {"present": False, "text": None, "step": DEFAULT_STEP}
# What a value from a link must be once cast with KEYS / VIEW: a test, and the words for the note when it fails.
RULES = {
    "corpus": (lambda v: 0 < len(v) <= 256 and v.isprintable(), "a corpus name of at most 256 characters"),
    "n": (lambda v: 0 <= v <= MAX_INT, f"a training-set size, a whole number up to {MAX_INT:,}"),
    "split": (lambda v: v in ("train", "test"), "'train' or 'test'"),
    "example": (lambda v: 0 <= v <= MAX_INT, f"an example's index, a whole number up to {MAX_INT:,}"),
    "t": (lambda v: 0 < v <= 1, "a corruption level in (0, 1]"),  # NaN fails every comparison
    "seed": (lambda v: 0 <= v <= MAX_INT, f"a seed, a whole number up to {MAX_INT:,}"),
    "present": (lambda v: True, "1 (on) or 0 (off)"),
    "text": (lambda v: len(v) <= MAX_TEXT, f"a sentence of at most {MAX_TEXT} characters"),
    "step": (lambda v: v in STEPS, " or ".join(f"'{s}'" for s in STEPS)),
}
FALLBACKS = {key: f"{key} = {value}" for key, value in DEFAULTS.items()} | {
    "n": "the smallest N", "present": "presenter mode off", "text": "no typed sentence",
    "step": f"the {DEFAULT_STEP} step"}

# Page-private widget values kept across pages by ``bind``, with their defaults.
PRIVATE = {
    # Transition
    "tr_metric": "recovery_rate", "tr_exact": False, "tr_clean": False, "tr_data": False,
    # Denoise
    "dn_mode": "stochastic", "dn_compare": False, "dn_only_changes": True, "dn_partner": None,
    "dn_search": 100,
    # Basins
    "basin_length": "all", "basin_among": "train and test", "basin_k": 5,
    # Entropy map
    "em_splits": ["train", "test", "generated"], "em_padding": True, "em_rows": 24, "em_space": "tok",
    "em_colour": "entropy", "em_tool": "lasso", "em_path": True, "em_zoom": True,
    "em_selected": [],   # not a widget: the (split, example) chosen on the projection (``keep``)
    # Generate
    "gen_count": 8,
    # What-if (wi_n's default depends on the corpus: the page passes it to bind; wi_size is
    # explorer.whatif.runs.DEFAULT_SIZE, named here without importing runs, which imports torch)
    "wi_source": "grammar", "wi_n": None, "wi_budget": "standard", "wi_size": "small", "wi_steps": 0,
    "wi_seed": 0, "wi_measure": "standard",
    **{f"wi_seq_len_{name}": spec.seq_len for name, spec in corpora.CORPORA.items()}, "wi_seq_len_upload": corpora.SEQ_LEN,
}


def _points(raw: str) -> list[tuple[str, int]]:
    """'train:0-3,7;test:2' -> [('train', 0), ..., ('train', 3), ('train', 7), ('test', 2)]; ValueError
    for any other text, a split that is not train, test or generated, or over MAX_SELECTED sequences."""
    out = []
    for part in raw.split(";"):
        split, _, examples = part.partition(":")
        if split not in ("train", "test", "generated") or not examples:
            raise ValueError(part)
        for item in examples.split(","):
            lo, dash, hi = item.partition("-")
            lo = int(lo)
            hi = int(hi) if dash else lo
            if not 0 <= lo <= hi <= MAX_INT or len(out) + hi - lo >= MAX_SELECTED:
                raise ValueError(item)
            out += [(split, i) for i in range(lo, hi + 1)]
    return out


def _points_text(points) -> str:
    """The inverse of ``_points``: per split (in order of first appearance), its examples in the order
    chosen, a run of consecutive ones as a range."""
    groups: dict[str, list[int]] = {}
    for split, example in points:
        groups.setdefault(str(split), []).append(int(example))
    parts = []
    for split, examples in groups.items():
        runs = []
        for e in examples:
            if runs and e == runs[-1][1] + 1:
                runs[-1][1] = e
            else:
                runs.append([e, e])
        parts.append(split + ":" + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs))
    return ";".join(parts)


def _model_text(path) -> str:
    """A second model's choice key as a link carries it: a zoo entry relative to the zoo, a what-if
    run as 'run:' and its path relative to the runs folder (so that a link works on another
    install), anything else (an ideal or step key, a path elsewhere) as it is."""
    from explorer import data

    for prefix, root in (("", data.zoo_root()), ("run:", data.runs_root())):
        if str(path).startswith(str(root).rstrip("/") + "/"):
            return prefix + str(path)[len(str(root).rstrip("/")) + 1:]
    return str(path)


def _model_key(raw: str) -> str:
    """The inverse of ``_model_text``: the choice key (as ``explorer.views.partners.candidates`` keys them)."""
    from explorer import data

    if raw.startswith(("ideal:", "step:", "/")):
        return raw
    if raw.startswith("run:"):
        return str(data.runs_root() / raw[len("run:"):])
    return str(data.zoo_root() / raw)


@dataclass(frozen=True)
class Link:
    """How a page-private value travels in a link: its URL parameter, the text -> value cast (raises
    ValueError on a bad one), the test a cast value must pass, the words for the note when it fails,
    what is used instead, and value -> text."""
    name: str
    read: Callable
    valid: Callable
    words: str
    fallback: str
    write: Callable = str


# Page-private values a link carries while they differ from their PRIVATE default (see the docstring).
LINKED = {
    "dn_compare": Link("compare", _flag, lambda v: True, "1 (on) or 0 (off)", "side by side off",
                       lambda v: "1" if v else "0"),
    "dn_partner": Link("partner", _model_key, lambda v: 0 < len(v) <= 1000 and v.isprintable(),
                       "one of the second models Denoise lists for this model", "the default second model",
                       _model_text),
    "dn_mode": Link("mode", str, lambda v: v in ("stochastic", "greedy"), "'stochastic' or 'greedy'",
                    "stochastic steps"),
    "tr_metric": Link("metric", str, lambda v: v in METRICS, " or ".join(f"'{m}'" for m in METRICS),
                      "the recovery rate"),
    "em_tool": Link("tool", str, lambda v: v in ("lasso", "box", "click"), "'lasso', 'box' or 'click'",
                    "the lasso"),
    "em_rows": Link("rows", int, lambda v: 4 <= v <= 128 and v % 4 == 0,
                    "a number of rows from 4 to 128, a multiple of 4", "24 rows per split"),
    "em_selected": Link("sel", _points, lambda v: len(v) > 0,
                        f"a list like 'train:0-3,7;test:2' of at most {MAX_SELECTED:,} sequences",
                        "no selection", _points_text),
}

# Other per-session values a page keeps (not widgets).
SESSION = {
    "dn_typed": "the last sentence typed on Denoise, restored when 'my own sentence' is chosen again",
    "dn_found": "the result of the last 'find a seed where they differ' search (partners.Search as a tuple)",
    "dn_resume": "(what the search ran on, the next seed) after a search whose time budget ran out: the button goes on from there",
    "live_generation": "(path, seed, count, step, 'pool' or 'live', seconds the live run took) of the samples shown on Generate",
    "em_resets": "how many empty selections the Entropy map's projection has cleared (part of its chart key)",
    "em_empty": "set when an empty selection was cleared: the Entropy map says so once",
    "em_picked": "(split, example, shared split, shared example): a generated point clicked on the Entropy map",
    "em_drawn": "the key of the Entropy map's projection chart whose own selection is the kept one (em_selected)",
    "wi_watch": "the id of the what-if job the What-if page last saw running (it reruns once that job ends)",
    "wi_ended": "the id of the ended what-if job whose outcome the What-if page shows",
    "wi_last": "the run directory whose results the What-if page shows",
    "scroll_to": "the key (a prefix) of the chart the next page run scrolls to: the Tour's step's figure",
    "wi_upload": "(name, file id, bytes) of the file last uploaded on What-if: Streamlit forgets an upload with its page",
    "jobs_seen": "ids of what-if jobs this session saw running: each is announced once when it ends",
    "jobs_ended": "the id of the ended what-if job the sidebar's status line shows",
}
# Keys of widgets bound to a shared value (``bind(key, shared)``) and of elements whose value is an
# event (charts, tables, buttons): never kept here. A page's key is one of these, or one of these
# followed by '_' and a suffix.
ELEMENTS = frozenset({
    "test_basins",   # Transition: do unseen sentences become attractors (fixed points, p(k = 1), exact match)
    "transition_chart", "entropy_chart", "dn_grid", "dn_entropy", "dn_find", "dn_source", "dn_text", "dn_example",
    "dn_t", "dn_seed", "dn_next_seed", "size_distribution", "fixed_points", "size_length", "extremes", "basin_strip",
    "basin_split", "basin_example", "hamming_profile", "recovery_vs_t", "basin_denoise", "projection",
    "entropy_heatmap", "em_neighbours", "em_compute", "em_clear", "categories", "fresh_categories", "categories_by_n",
    "fluency_by_n", "gen_seed", "gen_sample", "gen_live",
    "tour", "link", "wi_file", "wi_train", "wi_cancel", "wi_transition", "wi_show", "wi_measure_run",
    "wi_zoo_model", "wi_open_transition",
    "w_corpus", "w_n", "w_t_transition", "w_t_entropy", "w_present", "w_step", "dl_csv", "dl_html"})
_KEPT = "kept_"   # prefix of the store of PRIVATE values in session state


def parse(key: str, raw: str):
    """The selection or view value ``key`` written as ``raw`` in a link, or None when it is not a
    valid one (not a number, not finite, out of range: see ``RULES``)."""
    try:
        value = {**KEYS, **VIEW}[key](raw)
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
            st.session_state[_KEPT + key] = value
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
        st.session_state.pop(_KEPT + "em_selected", None)   # a selection names another model's sequences
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
    return st.session_state.get(_KEPT + key, PRIVATE[key])


def keep(key: str, value) -> None:
    """Keep ``value`` as the page-private value ``key`` (one that no widget holds, e.g. the Entropy
    map's selection), and the URL with it when the link carries it."""
    if key not in PRIVATE:
        raise KeyError(f"{key!r} is not a page-private key named in explorer.state.PRIVATE")
    if kept(key) != value:
        st.session_state[_KEPT + key] = value
        if key in LINKED:
            sync_url()


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
    st.session_state[_KEPT + key] = st.session_state[key]
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
    st.session_state.pop(_KEPT + key, None)
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
