"""Basin Explorer: an interactive explorer of the attractor basins of small uniform-noise discrete
diffusion language models (``streamlit run streamlit_app.py``).

The entry script only sets the page up, registers the pages (``explorer.widgets.PAGES``), honours a
``?page=...`` link once, writes the shared selection into the URL, says in the sidebar which values of
the link it had to ignore, and runs the chosen page.
"""
import streamlit as st

from explorer import state, widgets

st.set_page_config(page_title="Basin Explorer", page_icon=":material/blur_on:", layout="wide")

page = st.navigation(widgets.nav_pages())
current = page.url_path or widgets.PAGES[0][2]
wanted = state.url_page(widgets.FILES)
if wanted and wanted != current:
    widgets.go_to(wanted)
state.sync_url(page=current)
for note in state.url_notes():
    st.sidebar.warning(note, icon=":material/link_off:")
page.run()
