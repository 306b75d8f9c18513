"""Design tokens: every colour, spacing, radius, font size and icon size the window uses.

Widgets, the application style sheet and the transcript's HTML take their values from
here and from nowhere else (a test looks for colour literals anywhere else in `ui/`).
Plain data, no Qt: the contrast test reads it without a display.

Two schemes, light and dark, with the same token names. `TEXT_PAIRS` lists every
(text, background) pair the window draws text with; each must reach WCAG AA (4.5:1,
3:1 for large text) in both schemes — `tests/unit/test_design_tokens.py` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

__all__ = [
    "DARK", "DETECTION_FALLBACK", "FONT_SCALE", "ICON", "LAYOUT", "LIGHT", "OVERLAY", "RADIUS",
    "SCHEMES", "SPACE", "TEXT_PAIRS", "Scheme",
]


@dataclass(frozen=True)
class Scheme:
    """The colours of one scheme, as CSS hex (`#rrggbb`)."""

    name: str
    dark: bool
    pygments_style: str             # code highlighting tuned for `code_bg`

    # Surfaces, from the back of the window to the front.
    window: str                     # the frame, menus' background
    sidebar: str                    # conversation list, parameter drawer
    base: str                       # transcript, text fields, the composer
    raised: str                     # popups, cards on a surface
    hover: str
    pressed: str
    selected: str                   # the selected row of a list
    border: str
    border_strong: str              # focused fields, the composer's outline on hover

    # Text.
    text: str
    text_muted: str                 # secondary lines, metadata, hints
    text_disabled: str              # inactive controls (exempt from AA, kept ≥ 3:1 anyway)
    placeholder: str
    link: str
    accent: str                     # primary buttons, the send button, focus
    accent_hover: str
    on_accent: str                  # text and icons on `accent`
    selection_bg: str               # selected text
    selection_text: str

    # The transcript.
    user_bubble: str                # behind the person's turns
    reasoning_bg: str
    reasoning_rule: str             # the bar at the left of the reasoning block
    code_bg: str
    code_fg: str
    inline_code_bg: str
    table_border: str
    table_header_bg: str

    # Messages and notes.
    error: str
    error_bg: str
    warning: str
    warning_bg: str
    success: str
    success_bg: str
    info: str
    info_bg: str

    # Capability badges in the model picker.
    badge_vision: str
    badge_vision_bg: str
    badge_thinking: str
    badge_thinking_bg: str
    badge_video: str
    badge_video_bg: str
    badge_grounding: str
    badge_grounding_bg: str

    tooltip_bg: str
    tooltip_text: str
    scrollbar: str
    scrollbar_hover: str

    def get(self, token: str) -> str:
        """A colour by token name (`"text_muted"`); KeyError for an unknown name."""
        if token not in _COLOUR_FIELDS:
            raise KeyError(token)
        value = getattr(self, token)
        assert isinstance(value, str)
        return value


LIGHT = Scheme(
    name="light", dark=False, pygments_style="default",
    window="#f3f3f6", sidebar="#f3f3f6", base="#ffffff", raised="#ffffff",
    hover="#e7e7ee", pressed="#dcdce6", selected="#e3e1fb", border="#d9d9e1",
    border_strong="#a9a9b8",
    text="#1c1d22", text_muted="#5a5d69", text_disabled="#81838d", placeholder="#6a6d78",
    link="#4338ca", accent="#4f46e5", accent_hover="#4338ca", on_accent="#ffffff",
    selection_bg="#c7c3f6", selection_text="#1c1d22",
    user_bubble="#f0effc", reasoning_bg="#f6f6f9", reasoning_rule="#c9c6ee",
    code_bg="#f6f8fa", code_fg="#1f2328", inline_code_bg="#eceef2", table_border="#d0d7de",
    table_header_bg="#f3f4f7",
    error="#b42318", error_bg="#fdecea", warning="#8a4600", warning_bg="#fff3df",
    success="#1a7335", success_bg="#e7f5eb", info="#1d5fb3", info_bg="#e8f0fb",
    badge_vision="#1d5fb3", badge_vision_bg="#e6eefb",
    badge_thinking="#6b34c4", badge_thinking_bg="#f0e9fc",
    badge_video="#0f6e6e", badge_video_bg="#e2f4f3",
    badge_grounding="#9a4300", badge_grounding_bg="#fdeedc",
    tooltip_bg="#26272e", tooltip_text="#f4f4f7", scrollbar="#c3c3cf",
    scrollbar_hover="#a3a3b3",
)

DARK = Scheme(
    name="dark", dark=True, pygments_style="github-dark",
    window="#1c1c21", sidebar="#202026", base="#17171b", raised="#2a2a31",
    hover="#2d2d35", pressed="#383842", selected="#353163", border="#34343d",
    border_strong="#5a5a68",
    text="#e8e8ed", text_muted="#a3a4b0", text_disabled="#7a7b87", placeholder="#9a9ba7",
    link="#aaa4ff", accent="#5b50e8", accent_hover="#6a60f0", on_accent="#ffffff",
    selection_bg="#4a43a0", selection_text="#ffffff",
    user_bubble="#25243a", reasoning_bg="#1f1f26", reasoning_rule="#4a4675",
    code_bg="#111116", code_fg="#e6edf3", inline_code_bg="#2b2b34", table_border="#454552",
    table_header_bg="#23232b",
    error="#ff8f85", error_bg="#3a1f1f", warning="#f2b75e", warning_bg="#3a2c16",
    success="#72d191", success_bg="#1b3325", info="#85bcff", info_bg="#1a2a40",
    badge_vision="#9cc6ff", badge_vision_bg="#1f2c42",
    badge_thinking="#c9aefc", badge_thinking_bg="#2e2345",
    badge_video="#7fd8d0", badge_video_bg="#163432",
    badge_grounding="#ffbe7a", badge_grounding_bg="#3b2a17",
    tooltip_bg="#eeeef2", tooltip_text="#1c1d22", scrollbar="#4a4a56",
    scrollbar_hover="#656574",
)

SCHEMES = {"light": LIGHT, "dark": DARK}

_COLOUR_FIELDS = frozenset(f.name for f in fields(Scheme) if f.name not in (
    "name", "dark", "pygments_style"))

# Every (text, background) pair text is drawn with, and whether that text is large
# (≥ 18 pt, or 14 pt bold: WCAG's 3:1). Adding a pair here puts it under the test.
TEXT_PAIRS: tuple[tuple[str, str, bool], ...] = (
    *((fg, bg, False) for fg in ("text", "text_muted", "link")
      for bg in ("window", "sidebar", "base", "raised", "hover", "selected", "user_bubble",
                 "reasoning_bg")),
    *(("placeholder", bg, False) for bg in ("window", "sidebar", "base", "raised")),
    ("text", "pressed", False),
    ("on_accent", "accent", False),
    ("on_accent", "accent_hover", False),
    ("selection_text", "selection_bg", False),
    ("code_fg", "code_bg", False),
    ("text_muted", "code_bg", False),
    ("link", "code_bg", False),
    ("text", "inline_code_bg", False),
    ("text", "table_header_bg", False),
    ("error", "base", False), ("error", "error_bg", False), ("text", "error_bg", False),
    ("warning", "base", False), ("warning", "warning_bg", False),
    ("text", "warning_bg", False),
    ("success", "base", False), ("success", "success_bg", False),
    ("text", "success_bg", False),
    ("info", "base", False), ("info", "info_bg", False), ("text", "info_bg", False),
    ("badge_vision", "badge_vision_bg", False),
    ("badge_thinking", "badge_thinking_bg", False),
    ("badge_video", "badge_video_bg", False),
    ("badge_grounding", "badge_grounding_bg", False),
    ("tooltip_text", "tooltip_bg", False),
)

# Inactive controls: WCAG sets no minimum; ours is 3:1 so they stay legible.
DISABLED_PAIRS: tuple[tuple[str, str], ...] = (
    ("text_disabled", "window"), ("text_disabled", "base"), ("text_disabled", "sidebar"),
)


# The groups below are namespaces of constants, read-only through `Final` and empty
# `__slots__`. They are plain classes rather than frozen dataclasses because the theme
# is imported before the window's first frame, and making six dataclasses (each builds
# its methods from generated source) was ≈ 9 ms of that wait.


class _Space:
    """Spacing steps in device-independent pixels."""

    __slots__ = ()

    xxs: Final[int] = 2
    xs: Final[int] = 4
    sm: Final[int] = 8
    md: Final[int] = 12
    lg: Final[int] = 16
    xl: Final[int] = 24
    xxl: Final[int] = 32


class _Radius:
    """Corner radii in device-independent pixels."""

    __slots__ = ()

    sm: Final[int] = 4
    md: Final[int] = 8
    lg: Final[int] = 12
    xl: Final[int] = 16


class _FontScale:
    """Font sizes as multiples of the desktop's own font size (which the person chose)."""

    __slots__ = ()

    caption: Final[float] = 0.86
    body: Final[float] = 1.0
    subtitle: Final[float] = 1.15
    title: Final[float] = 1.45
    hero: Final[float] = 1.85


class _Icon:
    """Icon sizes in device-independent pixels (rendered crisp at any scale)."""

    __slots__ = ()

    small: Final[int] = 16
    medium: Final[int] = 18
    large: Final[int] = 20
    hero: Final[int] = 40


class _Layout:
    """Widths that shape the window."""

    __slots__ = ()

    reading_width: Final[int] = 780        # longest line of the transcript (≈ 90 characters)
    sidebar_width: Final[int] = 250        # the conversation list, docked
    drawer_width: Final[int] = 340         # the parameter drawer
    list_docks_from: Final[int] = 980      # window width from which the list sits beside the chat
    params_dock_from: Final[int] = 1240    # … and the parameter drawer too (else it overlays)
    min_window_width: Final[int] = 640
    composer_min_height: Final[int] = 56
    send_button: Final[int] = 34
    thumb_radius: Final[int] = 8
    spin_width: Final[int] = 96            # an exact value beside its slider


SPACE = _Space()
RADIUS = _Radius()
FONT_SCALE = _FontScale()
ICON = _Icon()
LAYOUT = _Layout()


class _Overlay:
    """The screen-region picker drawn over a screenshot (the same in both schemes: it
    lies over whatever the screen shows)."""

    __slots__ = ()

    shade: Final[str] = "#0000006e"        # #aarrggbb: black at 43 %
    frame: Final[str] = "#4f46e5"
    label_text: Final[str] = "#ffffff"
    label_bg: Final[str] = "#000000b4"
    canvas: Final[str] = "#000000"         # behind monitors that do not fill the bounding box
    viewer_backdrop: Final[str] = "#3a3a3a"    # behind an image in the grounding viewer
    marker_outline: Final[str] = "#ffffff"     # around a located point
    marker_label_dark: Final[str] = "#000000"
    marker_label_light: Final[str] = "#ffffff"


OVERLAY = _Overlay()

DETECTION_FALLBACK = "#e15759"
"""A located thing's colour when its label has none assigned (core/grounding's palette)."""
