"""Every page-private session key, named in one place: the widget values ``bind`` keeps across
pages (``PRIVATE``, with their defaults), the other per-session values a page keeps (``SESSION``), and
the keys of elements whose value is an event (``ELEMENTS``: charts, tables, buttons, and widgets bound
to a shared value), never kept. A page's key is one of these, or an element's key followed by '_' and a
suffix (tests/test_state.py reads the pages' source to check it).
"""
from __future__ import annotations

from engine.text import corpora

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
