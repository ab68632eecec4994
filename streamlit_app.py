"""Basin Explorer: an interactive explorer of the attractor basins of small uniform-noise discrete
diffusion language models (``streamlit run streamlit_app.py``).

The entry script only sets the page up (its icon is a local file: nothing is fetched from the
internet; the sidebar starts closed in presenter mode), registers the pages
(``explorer.widgets.PAGES``), honours a ``?page=...`` link once, writes the shared selection into the
URL, says in the sidebar which values of the link it had to ignore, draws the presenter-mode toggle,
runs the chosen page, and — once the first page has painted — starts warming the server in the
background (``explorer.warmup``).
"""
import streamlit as st

from explorer.whatif import jobs
from explorer import state, warmup, widgets

st.set_page_config(page_title="Basin Explorer", page_icon=str(widgets.ICON), layout="wide",
                   initial_sidebar_state="collapsed" if state.presenting() else "auto")

page = st.navigation(widgets.nav_pages())
current = page.url_path or widgets.PAGES[0][2]
wanted = state.url_page(widgets.FILES)
if wanted and wanted != current:
    widgets.go_to(wanted)
state.sync_url(page=current)
for note in state.url_notes():
    st.sidebar.warning(note, icon=":material/link_off:")
widgets.presenter()
jobs.sidebar_status(live=current != "what-if")   # the server's what-if run, on every page
try:
    page.run()
finally:
    warmup.start()
