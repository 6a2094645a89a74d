"""Fixtures shared by every test file."""

# The server store's fixtures (`database`, `ledger`): a PostgreSQL database of this run's own.
pytest_plugins = ("servers",)
