"""The dashboard's panels: one module per tab, the sidebar, the charts and the data reads."""
