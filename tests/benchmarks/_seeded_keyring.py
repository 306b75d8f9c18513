"""A keyring backend for benchmark children: in memory, already holding keys.

A child process cannot be handed the parent's in-memory keyring, and a benchmark must
never touch the machine's real one. keyring itself imports and builds the class named
by `PYTHON_KEYRING_BACKEND`, so a child started with

    PYTHON_KEYRING_BACKEND=_seeded_keyring.SeededKeyring
    QWENVL_BENCH_KEYS=dashscope-intl=sk-...;ovh=...

(and this folder on its `sys.path`, as it is for a script run from here) finds those
keys at start-up exactly where the app looks for them, with the app unchanged. A real
Secret Service would add a D-Bus round trip per read; this keyring costs nothing.
"""

from __future__ import annotations

import os

from qwenvl_desktop.core.secrets import SERVICE
from qwenvl_desktop.testing.memory_keyring import MemoryKeyring

KEYS_ENV = "QWENVL_BENCH_KEYS"


def keys_value(keys: dict[str, str]) -> str:
    """`QWENVL_BENCH_KEYS` for these (key id → key) pairs."""
    return ";".join(f"{key_id}={key}" for key_id, key in keys.items())


class SeededKeyring(MemoryKeyring):
    """`MemoryKeyring` holding the keys listed in `QWENVL_BENCH_KEYS`."""

    def __init__(self) -> None:
        super().__init__()
        for item in os.environ.get(KEYS_ENV, "").split(";"):
            key_id, _, key = item.partition("=")
            if key_id and key:
                self.store[(SERVICE, key_id)] = key
