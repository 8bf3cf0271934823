"""The dashboard's panels: one module per tab, the sidebar, the charts and the data reads.

Modules import each other relatively, so they work whether this folder is imported as
``panels`` (``streamlit run dashboard/app.py``) or as ``dashboard.panels``.
"""
