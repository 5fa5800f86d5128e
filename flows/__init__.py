"""Prefect flows over the cached stages, and the ``sracl`` command line that starts them."""
