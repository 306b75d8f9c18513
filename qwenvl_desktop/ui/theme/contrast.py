"""WCAG 2 contrast of two colours, from their hex codes (no Qt: the tests use it too)."""

from __future__ import annotations

__all__ = ["AA_LARGE", "AA_NORMAL", "contrast_ratio", "luminance", "mix", "parse_hex"]

AA_NORMAL = 4.5
AA_LARGE = 3.0


def parse_hex(colour: str) -> tuple[int, int, int]:
    """`#rrggbb` (or `#aarrggbb`, alpha ignored) as (red, green, blue)."""
    digits = colour.lstrip("#")
    if len(digits) == 8:
        digits = digits[2:]
    if len(digits) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    red, green, blue = parse_hex(colour)
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 … 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mix(a: str, b: str, amount: float) -> str:
    """`a` moved `amount` (0..1) of the way towards `b`, as #rrggbb."""
    ra, ga, ba = parse_hex(a)
    rb, gb, bb = parse_hex(b)
    red, green, blue = (round(x + (y - x) * amount) for x, y in ((ra, rb), (ga, gb), (ba, bb)))
    return f"#{red:02x}{green:02x}{blue:02x}"
