"""Basin Explorer's Streamlit app: thin pages (``explorer/pages``) over cached data access (``data.py``,
``model.py``), the URL-synchronised selection (``state/``), page parts with their logic (``views/``),
What-if (``whatif/``) and pure plotly figure builders (``figures/``)."""
