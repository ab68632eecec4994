"""Warm the server in the background once it has painted its first page, so that the first visit to
Denoise does not wait for torch, a checkpoint and the first forward pass.

``start`` runs once per server process (``st.cache_resource``): a daemon thread (``DELAY`` s after the
first page's script run, and at nice ``priority.NICE``, so that the browser — which on a 2-core machine is
still parsing plotly.js then — draws its charts first) imports torch, loads
the model the default selection shows (the smallest N of the default corpus) and its sentences, and
runs the very denoising the Denoise page opens with (training example 0 at the default t and seed),
whose trajectory then sits in the page's cache; then it builds that run's token grid once, so that
plotly's trace validators are loaded too. It only fills caches: a failure is logged and forgotten.
The time it took is written to the server's log ("warm-up done in ...").
"""
from __future__ import annotations

import logging
import threading
import time

import streamlit as st

from explorer import data, model, state
from explorer.priority import lower_priority

log = logging.getLogger("basin_explorer.warmup")
DELAY = 1.0   # seconds: let the browser draw the first page's charts before the warm-up takes a core


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread | None:
    """The warm-up thread of this server, started on the first call; None outside a real server
    (AppTest runs pages with a stand-in runtime: a thread still running torch when such a process
    exits aborts it)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists() or type(Runtime.instance()) is not Runtime:   # AppTest's is a MagicMock
        return None
    thread = threading.Timer(DELAY, warm, args=(str(data.zoo_root()),))
    thread.name, thread.daemon = "basin-warmup", True
    thread.start()
    return thread


def warm(root: str) -> float | None:
    """Fill the caches the Denoise page reads first; returns the seconds it took (None on failure)."""
    began = time.perf_counter()
    lower_priority()
    try:
        from explorer.figures import grid as grid_figures
        from explorer.views import partners

        index = data.entries(root)
        corpus = state.DEFAULTS["corpus"] if state.DEFAULTS["corpus"] in set(index["corpus"]) else index["corpus"].iloc[0]
        path = str(index.loc[index["corpus"] == corpus].sort_values("n")["path"].iloc[0])
        b = model.load(path)
        for split in ("train", "test"):
            b.sentences(split)
        x0 = b.train_ids[state.DEFAULTS["example"]].tolist()
        r = partners.denoise_run(b, x0, state.DEFAULTS["t"], state.DEFAULTS["seed"], False)
        partners.outcome(b, r)
        grid_figures.token_grid_figure(r, b.tokenizer.itos)
        grid_figures.entropy_figure({"warm-up": r})
    except Exception as e:   # a missing or broken zoo: the pages say so; warming is only an optimisation
        log.warning("warm-up skipped: %s", e)
        return None
    took = time.perf_counter() - began
    log.warning("warm-up done in %.2f s", took)   # warning: shown at Streamlit's default log level
    return took
