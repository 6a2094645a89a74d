"""Both stores for the command tests: a test that takes the `store` fixture runs twice, once with its
state in a file and once with it in a ledger on the test server (servers.py), and must pass the same
way on each. A test that reads or spoils the files themselves is marked `@pytest.mark.file_only` and
runs on the file alone.

    def test_x(store: Store, tmp_path: Path) -> None:
        state = store.place(tmp_path / "state.toml")   # that path, or a ledger URL of the test's own
        ...
        assert store.contents(state) == before           # the files beside it, or the server's rows
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import dump, execute, ledger_url

KINDS = ("file", "server")


@dataclass(frozen=True)
class Store:
    kind: str
    database: str = ""

    @property
    def on_server(self) -> bool:
        return self.kind == "server"

    def place(self, path: Path) -> Path | str:
        """Where a test's state lives: `path` for a file; on the server, a ledger of its own (and the
        directory `path` would be in is made, for the test's other files)."""
        if not self.on_server:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        return ledger_url(self.database, prefix=re.sub(r"[^A-Za-z0-9_-]", "_", path.parent.name)[:20] + "_")

    def contents(self, state: Path | str) -> Any:
        return contents(state)

    def exists(self, state: Path | str) -> bool:
        """Whether there is a state there: a file (or anything else) at the path, or the ledger's row."""
        return _row(state) is not None if isinstance(state, str) else state.exists()

    def snapshot(self, state: Path | str) -> str:
        """The snapshot commands read: the state file's text, or the ledger row's."""
        if isinstance(state, str):
            row = _row(state)
            assert row is not None, f"no ledger at {state}"
            return str(row[1])
        return state.read_text(encoding="utf-8")

    def write_snapshot(self, state: Path | str, text: str) -> None:
        """Replace the snapshot behind the tool's back, as a hand edit or a broken disk would."""
        if isinstance(state, str):
            execute(state, "UPDATE inmailctl_ledgers SET snapshot = %s WHERE name = %s", text, _ledger(state))
        else:
            state.write_text(text, encoding="utf-8")


FILE = Store("file")


def contents(state: Path | str) -> Any:
    """Everything the store holds for `state`, what a refused command must leave exactly as it was:
    every file beside a state file, byte for byte (the state, its journal, the lock, any leftovers),
    or the server's rows for the ledger and the ledgers kept aside for it."""
    if isinstance(state, str):
        return dump(state)
    if not state.parent.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(state.parent.iterdir()) if p.is_file()}


def _row(url: str) -> tuple[Any, ...] | None:
    """The ledger's row (name, snapshot, position), if there is one."""
    return next((row for row in dump(url).get("ledgers", []) if row[0] == _ledger(url)), None)


def _ledger(url: str) -> str:
    return url.rpartition("?ledger=")[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "file_only: the test reads or spoils state files: run it on a file alone")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        kinds = KINDS[:1] if metafunc.definition.get_closest_marker("file_only") else KINDS
        metafunc.parametrize("store", kinds, indirect=True)


def of_kind(kind: str, request: pytest.FixtureRequest) -> Store:
    return Store("server", request.getfixturevalue("database")) if kind == "server" else FILE


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Store:
    return of_kind(request.param, request)
