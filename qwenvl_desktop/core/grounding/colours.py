"""The colour of each detection's label (plain data: the window, the terminal and the
exports use it without importing Pillow)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PALETTE", "colours_for"]

# Tableau 10, reordered so the first colours differ most; hex strings for the UI too.
PALETTE = ("#e15759", "#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948",
           "#ff9da7", "#9c755f", "#bab0ac")


def colours_for(labels: Iterable[str]) -> dict[str, str]:
    """A colour per distinct label, in order of first appearance (cycling the palette)."""
    colours: dict[str, str] = {}
    for label in labels:
        if label not in colours:
            colours[label] = PALETTE[len(colours) % len(PALETTE)]
    return colours
