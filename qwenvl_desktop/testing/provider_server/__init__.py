"""A loopback HTTP server that speaks every provider's wire format, and misbehaves on cue.

The end-to-end tests, the app's `--self-test` and the benchmarks point real providers
at it with `Provider.with_base_url(server.base_url_for(dialect))`. It runs on
127.0.0.1 on an ephemeral port in a background thread, so it works the same under
plain pytest, under the CLI in a subprocess and under qasync in the GUI. Stdlib only.

    server    ProviderServer: start/stop, the queue of scripted answers, what it saw
    script    Script (what to answer, which fault to inject) and RequestRecord
    dialects  per-provider paths, reasoning fields and error bodies
    handler   routing and the checks a real provider makes before answering
    writer    the answer on the wire: SSE, JSON lines or one body, and the faults
"""

from __future__ import annotations

from .dialects import DIALECTS, default_error_message, dialect_for
from .script import RequestRecord, Script, split_pieces
from .server import DEFAULT_KEY, ProviderServer

__all__ = [
    "DEFAULT_KEY",
    "DIALECTS",
    "ProviderServer",
    "RequestRecord",
    "Script",
    "default_error_message",
    "dialect_for",
    "split_pieces",
]
