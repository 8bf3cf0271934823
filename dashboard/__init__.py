"""The Streamlit dashboard, installed with the package and served by ``swifteats dashboard``.

``app.py`` is the page Streamlit runs; importing this package imports nothing of Streamlit.
"""
