"""Basin Explorer's Streamlit app: thin pages (``explorer/pages``), cached data access (``data.py``),
URL-synchronised selection (``state.py``) and pure plotly figure builders (``figures.py``)."""
