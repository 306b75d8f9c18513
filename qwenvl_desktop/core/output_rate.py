"""How fast an answer was written — only when that figure means something.

Tokens per second are counted from the first token to the end of the answer (the time to
the first token is the wait, shown apart), over the tokens after the first: the first
piece marks when writing began. The figure is left out when it would say nothing about
the model's speed:

* the answer arrived in one go — Segmind's blocking reply revealed at once, a cached
  answer, a proxy that buffers the stream, a loopback server: a few milliseconds
  between the first and the last token gave "32,267 tokens/s";
* too few tokens followed the first one — a server sends several tokens per piece, so a
  handful of tokens can arrive in two pieces, and their rate is mostly noise;
* the answer did not end normally — an interrupted stream's clock ran on while the
  connection hung, and a failed answer has no rate to speak of.

The terminal, the exports and the transcript word their status lines their own way;
they share this rule.
"""

from __future__ import annotations

import math

from .conversation import Message

__all__ = ["MIN_TOKENS_AFTER_FIRST", "MIN_WRITING_S", "tokens_per_second"]

MIN_WRITING_S = 1.0
"""At least this long from the first token to the end: below it, network batching
(tens of milliseconds) is a large part of the span."""

MIN_TOKENS_AFTER_FIRST = 20
"""At least this many tokens after the first one."""

_RATED = frozenset({"complete", "stopped"})


def tokens_per_second(message: Message) -> float | None:
    """The answer's writing speed in tokens per second, or None when it would mislead."""
    prov = message.provenance
    if prov is None or prov.usage is None or message.status not in _RATED:
        return None
    first, total = prov.first_token_s, prov.total_s
    if first is None or total is None or not (math.isfinite(first) and math.isfinite(total)):
        return None
    after_first = prov.usage.completion_tokens - 1
    writing = total - first
    if after_first < MIN_TOKENS_AFTER_FIRST or writing < MIN_WRITING_S:
        return None
    return after_first / writing
