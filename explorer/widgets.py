"""Shared widgets: the page registry and navigation, the sidebar selectors bound to ``explorer.state``
(with ``state.bind``, the one way widgets keep their values), presenter mode, a guard that turns
loading errors into ``st.error``, figures (styled for a projector in presenter mode) and the export
buttons (CSV of a table, HTML of a figure).
"""
from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine.store import oserrors

from explorer import data, state, style

# file (relative to streamlit_app.py), title, url path, icon; the first one is the home page.
PAGES = (
    ("explorer/pages/transition.py", "Transition", "transition", ":material/trending_up:"),
    ("explorer/pages/denoise.py", "Denoise", "denoise", ":material/blur_on:"),
    ("explorer/pages/basins.py", "Basins", "basins", ":material/radar:"),
    ("explorer/pages/entropy_map.py", "Entropy map", "entropy-map", ":material/grid_on:"),
    ("explorer/pages/generate.py", "Generate", "generate", ":material/auto_awesome:"),
    ("explorer/pages/whatif.py", "What-if", "what-if", ":material/science:"),
    ("explorer/pages/tour.py", "Tour", "tour", ":material/school:"),
)
FILES = {url: file for file, _, url, _ in PAGES}
ICON = data.REPO / "assets" / "favicon.png"   # the page icon, served by the app itself (works offline)


def nav_pages() -> list:
    """The ``st.Page`` objects of the app, Transition first and default (served at the root URL)."""
    return [st.Page(file, title=title, url_path=url, icon=icon, default=(i == 0))
            for i, (file, title, url, icon) in enumerate(PAGES)]


def go_to(url_path: str) -> None:
    """Switch to the page with this url path, carrying the whole selection in the query string."""
    st.switch_page(FILES[url_path], query_params=state.params(url_path))


def page_link(url_path: str, label: str, icon: str | None = None, container=None) -> None:
    """A button that opens another page with the whole selection (a button, not ``st.page_link``, so
    that a page run on its own — as in the tests — draws it too)."""
    if (container or st).button(label, icon=icon, key=f"link_{url_path}"):
        go_to(url_path)


@dataclass(frozen=True)
class Entry:
    """One model of the zoo: its corpus, training-set size N and checkpoint directory."""

    corpus: str
    n: int
    path: str
    root: str


def guard(fn, *args):
    """``fn(*args)``, or an ``st.error`` with the message and a stop when loading fails."""
    try:
        return fn(*args)
    except OSError as e:
        st.error(f"Could not load the data: {oserrors.explain(e)}")
        st.stop()
    except (ValueError, KeyError) as e:
        st.error(f"Could not load the data: {e}")
        st.stop()


def zoo_entries() -> pd.DataFrame:
    """The zoo index (corpus, n, path), or an error with guidance and a stop when it is empty."""
    root = data.zoo_root()
    index = guard(data.entries, str(root))
    if index.empty:
        st.error(f"No models found in the zoo at `{root}`.")
        st.markdown(
            "Build one, then reload this page:\n\n"
            "* the shipped zoo (both corpora, takes a while): `python -m engine zoo`\n"
            "* a quick sweep: `python -m engine sweep --corpus grammar --sizes 16,64,256 "
            f"--out {root}`\n"
            "* or point the environment variable `BASIN_ZOO` at an existing zoo directory "
            "(one with an `index.json`).")
        st.stop()
    return index


def run_entries() -> pd.DataFrame:
    """The what-if runs' index (corpus, n, path), empty when there are none or it cannot be read."""
    try:
        return data.entries(str(data.runs_root()))
    except (ValueError, OSError):
        return pd.DataFrame(columns=["corpus", "n", "path"])


def sidebar() -> Entry:
    """Corpus and N selectors in the sidebar, bound to the shared selection; returns the chosen entry:
    a zoo model, or a what-if run of a corpus the zoo does not have (an uploaded file's, another L's:
    listed after the zoo's corpora once such a run exists). An unknown corpus or N from a link snaps
    to the first corpus / the nearest N, with a note."""
    index = zoo_entries()
    runs = run_entries()
    zoo_corpora = list(dict.fromkeys(index["corpus"]))
    corpora = zoo_corpora + [c for c in dict.fromkeys(runs["corpus"]) if c not in zoo_corpora]
    if state.get("corpus") not in corpora:
        if state.get("corpus") != state.DEFAULTS["corpus"]:
            st.sidebar.warning(f"Corpus {state.literal(state.get('corpus'))} is not in the zoo; showing "
                               f"'{corpora[0]}'.")
        state.update(corpus=corpora[0])
    corpus = bound_select("Corpus", corpora, "corpus", help="Which training corpus the models learned.",
                          format_func=lambda c: c if c in zoo_corpora else f"{c} (your what-if runs)")
    table, root = (index, data.zoo_root()) if corpus in zoo_corpora else (runs, data.runs_root())
    sizes = [int(n) for n in table.loc[table["corpus"] == corpus, "n"]]
    n = state.get("n")
    if n not in sizes:
        nearest = min(sizes, key=lambda s: abs(math.log(s) - math.log(max(n, 1))))
        if n:
            st.sidebar.warning(f"No model with N = {n} for '{corpus}'; showing N = {nearest}.")
        state.update(n=nearest)
    n = bound_select("Training-set size N", sizes, "n", format_func=lambda v: f"N = {v:,}",
                     help="Number of training sentences (nested subsets: each N contains the smaller ones).")
    path = table.loc[(table["corpus"] == corpus) & (table["n"] == n), "path"].iloc[0]
    if corpus not in zoo_corpora:
        st.sidebar.caption("What-if runs only: the zoo has no model of this corpus.")
    st.sidebar.caption("The address bar holds the whole selection: copy it to share this view.")
    return Entry(corpus, n, path, str(root))


def step_select(container=None) -> str:
    """The sampler: the reverse step every live denoising and generation takes, and whose stored
    tables a page shows (``engine.diffusion.step``: the exact step, or the paper's plug-in step), bound to the
    shared view setting ``step`` (in the link as ``step=plugin``)."""
    from engine.diffusion.step import STEP_LABELS, STEPS

    return (container or st.sidebar).radio(
        "Sampler", list(STEPS), format_func=lambda s: STEP_LABELS[s].capitalize(), **state.bind("w_step", "step"),
        help="How each reverse step turns the model's prediction x_θ into the next, less noisy sequence. "
             "Exact: the mixture Σ_v x_θ(v) q(z_s | z_t, x = v). The paper's sampler: x_θ plugged into the "
             "posterior formula, which is biased (its normaliser depends on x).")


def bound_select(label: str, options: list, name: str, *, format_func=str, help: str | None = None,
                 key: str | None = None, container=None):
    """A selectbox whose value is the shared selection ``name`` (which must be one of ``options``)."""
    return (container or st.sidebar).selectbox(label, options, format_func=format_func, help=help,
                                               **state.bind(key or f"w_{name}", name))


def level_select(levels, *, key: str, label: str = "Corruption level t", V: int | None = None,
                 container=None, help: str | None = None) -> float:
    """A selector of corruption level among ``levels`` bound to the shared t; shows the level nearest
    to the shared t without changing it (a page with other levels does not overwrite the link's t)."""
    from explorer.figures import level_label

    levels = sorted(float(t) for t in set(levels))
    if not levels:
        st.warning("No corruption levels were measured for this model.")
        st.stop()
    nearest = min(levels, key=lambda t: abs(t - state.get("t")))
    return (container or st.sidebar).selectbox(
        label, levels, format_func=lambda t: level_label(t, V, short=True), **state.bind(key, "t", shown=nearest),
        help=help or "The level t of the forward process. The share of tokens that actually change "
                     "is (1 - alpha_t)(1 - 1/V), shown in brackets, not t itself.")


def presenter() -> bool:
    """The presenter-mode toggle (bottom of the sidebar, kept in the URL as ``present=1``); in
    presenter mode, page text and figures grow for a projector. Returns whether it is on."""
    st.sidebar.toggle("Presenter mode", help="Larger text, figures and markers for a projector, short captions, "
                      "the sidebar closed on opening. The link keeps it (present=1).", **state.bind("w_present", "present"))
    on = state.presenting()
    if on:
        st.html(style.PRESENT_CSS)
    return on


def fit_box() -> tuple[int, int] | None:
    """The (width, height) in px that a figure built to fit the screen gets in presenter mode (a
    1280 × 720 projector below Streamlit's top bar, ``style.PRESENT_WIDTH`` × ``PRESENT_HEIGHT``);
    None otherwise."""
    return (style.PRESENT_WIDTH, style.PRESENT_HEIGHT) if state.presenting() else None


def columns(spec):
    """``st.columns(spec)``, or as many full-width containers one below the other in presenter mode
    (a projected figure needs the whole width)."""
    n = spec if isinstance(spec, int) else len(spec)
    return [st.container() for _ in range(n)] if state.presenting() else st.columns(spec)


def caption(text: str, short: str | None = None, container=None, *, small: bool = True) -> None:
    """A caption (``small``) or a paragraph, or its ``short`` version in presenter mode."""
    c = container or st
    (c.caption if small else c.markdown)(short if short is not None and state.presenting() else text)


def select_example(split: str, example: int) -> None:
    """Make (split, example) the shared selection."""
    state.update(split=split, example=int(example))


def backfill_note(names, paths, what: str, container=None) -> None:
    """An ``st.info`` that ``what`` needs the tables ``names`` which the checkpoints at ``paths`` lack
    (measured before the tables existed), with the command that back-fills each."""
    names, paths = list(names), list(dict.fromkeys(paths))
    if not names or not paths:
        return
    tables = ", ".join(f"`{n}`" for n in names)
    commands = "\n".join(f"python -m engine measure {shlex.quote(shown_path(p))} --only {','.join(names)}" for p in paths)
    whom = "this model" if len(paths) == 1 else f"{len(paths)} of the models"
    many = len(names) > 1
    (container or st).info(f"{what}: the table{'s' if many else ''} {tables} {'are' if many else 'is'} missing for "
                           f"{whom} (measured before {'they' if many else 'it'} existed). Back-fill without "
                           f"retraining; the app reads them on its next run:"
                           f"\n```\n{commands}\n```", icon=":material/info:")


def shown_path(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (as typed there), else absolute."""
    p = Path(path).resolve()
    return str(p.relative_to(data.REPO)) if p.is_relative_to(data.REPO) else str(p)


# ------------------------------------------------------------------------------------------ exports

def download_table(df: pd.DataFrame, name: str, label: str = "Download table (CSV)", container=None) -> None:
    """A CSV download of ``df`` (built only when clicked; does not rerun the page)."""
    (container or st).download_button(
        label, data=lambda: df.to_csv(index=False), file_name=f"{_safe(name)}.csv", mime="text/csv",
        on_click="ignore", key=f"dl_csv_{name}", icon=":material/download:")


def download_figure(fig: go.Figure, name: str, container=None) -> None:
    """A self-contained HTML download of ``fig`` (plotly.js embedded: works offline)."""
    (container or st).download_button(
        "Download figure (HTML)", data=lambda: fig.to_html(include_plotlyjs=True, full_html=True),
        file_name=f"{_safe(name)}.html", mime="text/html", on_click="ignore", key=f"dl_html_{name}",
        icon=":material/download:")


def figure(fig: go.Figure, name: str, *, container=None, key: str | None = None, select=None):
    """Render ``fig`` full width (styled for a projector in presenter mode) with its HTML download
    below; with ``select`` (a selection mode or a tuple of them) the chart reruns the page on
    selection and the event is returned. The chart whose key starts with the one ``scroll_to_figure``
    asked for is scrolled to, once."""
    c = container or st
    if state.presenting():
        fig = style.present(fig)
    kwargs = {"on_select": "rerun", "selection_mode": select} if select else {}
    event = c.plotly_chart(fig, key=key, width="stretch", config={"displaylogo": False}, **kwargs)
    download_figure(fig, name, container=c)
    target = st.session_state.get("scroll_to")
    if target and key and key.startswith(target):
        del st.session_state["scroll_to"]
        st.html(SCROLL_SCRIPT.replace("TARGET", target), unsafe_allow_javascript=True)
    return event


# Scrolls the page to the first chart whose key starts with TARGET (Streamlit gives a keyed element the
# class st-key-<key>), just below the top bar, once plotly has drawn it; gives up after 10 s. Runs in the
# page itself: nothing is fetched.
SCROLL_SCRIPT = """<script>
(() => { const until = Date.now() + 10000;
  const go = () => { const el = [...document.querySelectorAll('[class*="st-key-TARGET"]')]
                       .find(e => e.querySelector('.js-plotly-plot .main-svg'));
    if (!el) { if (Date.now() < until) setTimeout(go, 100); return; }
    const bar = document.querySelector('[data-testid="stHeader"]');
    el.style.scrollMarginTop = ((bar ? bar.getBoundingClientRect().height : 0) + 4) + 'px';
    el.scrollIntoView({block: 'start'}); };
  go(); })();
</script>"""


def scroll_to_figure(key_prefix: str) -> None:
    """Ask the next page run to scroll to its chart whose key starts with ``key_prefix`` (the Tour
    opens each step's page on the step's figure)."""
    st.session_state["scroll_to"] = key_prefix


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def entry_label(e: Entry) -> str:
    return f"{e.corpus} · N = {e.n:,} ({Path(e.path).name})"
