"""The application style sheet, written from the tokens of one scheme.

Widgets opt into a look by object name (`#composerFrame`, `#sendButton`…) or by a
`role` property (`icon` tool buttons, `primary` / `secondary` buttons, `segment`
buttons, `chip`s, `caption` and `title` labels); everything else keeps Fusion's drawing
in the scheme's palette. No widget writes a colour or a size of its own.

Keyboard focus is a 2-pixel ring in the accent colour on every control (the padding
gives back the pixel the ring adds, so nothing moves); the transcript and the
conversation list keep a ring's width of their own background for it.
"""

from __future__ import annotations

from .tokens import FONT_SCALE, LAYOUT, RADIUS, SPACE, Scheme

__all__ = ["app_stylesheet", "font_pt"]


def font_pt(base_pt: float, scale: float) -> str:
    """A font size token as a style-sheet value (`10.5pt`)."""
    return f"{max(6.0, base_pt * scale):.1f}pt"


def app_stylesheet(s: Scheme, base_pt: float) -> str:
    base_pt = base_pt if base_pt > 0 else 10.0
    caption = font_pt(base_pt, FONT_SCALE.caption)
    subtitle = font_pt(base_pt, FONT_SCALE.subtitle)
    title = font_pt(base_pt, FONT_SCALE.title)
    hero = font_pt(base_pt, FONT_SCALE.hero)
    half_send = LAYOUT.send_button // 2
    return f"""
QToolTip {{ color: {s.tooltip_text}; background: {s.tooltip_bg}; border: 0;
    padding: {SPACE.xs}px {SPACE.sm}px; border-radius: {RADIUS.sm}px; }}
QMainWindow, QDialog {{ background: {s.window}; }}
QStatusBar {{ color: {s.text_muted}; background: {s.window}; }}
QStatusBar QLabel {{ color: {s.text_muted}; }}
QSplitter::handle {{ background: {s.border}; }}
QSplitter::handle:horizontal {{ width: 1px; }}
QSplitter::handle:vertical {{ height: 1px; }}
QSplitter#chatSplitter::handle {{ background: transparent; }}

QMenu {{ background: {s.raised}; color: {s.text}; border: 1px solid {s.border};
    padding: {SPACE.xs}px; }}
QMenu::item {{ padding: {SPACE.xs + 1}px {SPACE.lg}px; border-radius: {RADIUS.sm}px; }}
QMenu::item:selected {{ background: {s.hover}; color: {s.text}; }}
QMenu::item:disabled {{ color: {s.text_disabled}; }}
QMenu::separator {{ height: 1px; background: {s.border}; margin: {SPACE.xs}px {SPACE.sm}px; }}

QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
QScrollBar::handle {{ background: {s.scrollbar}; border-radius: {RADIUS.sm}px;
    min-height: 28px; min-width: 28px; margin: 2px; }}
QScrollBar::handle:hover {{ background: {s.scrollbar_hover}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}

QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {s.base}; color: {s.text}; border: 1px solid {s.border};
    border-radius: {RADIUS.md}px; padding: {SPACE.xs}px {SPACE.sm}px;
    selection-background-color: {s.selection_bg}; selection-color: {s.selection_text}; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus,
QDoubleSpinBox:focus, QComboBox:focus {{ border-color: {s.accent}; }}
QLineEdit:disabled, QPlainTextEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled,
QComboBox:disabled {{ color: {s.text_disabled}; background: {s.window}; }}
QComboBox QAbstractItemView {{ background: {s.raised}; color: {s.text};
    border: 1px solid {s.border}; selection-background-color: {s.selected};
    selection-color: {s.text}; }}
/* A styled frame leaves Qt to draw the step buttons without arrows (two bare lines).
   Values change with the slider beside them, the arrow keys, the wheel or typing. */
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ width: 0; border: none; }}

QPushButton {{ background: {s.raised}; color: {s.text}; border: 1px solid {s.border};
    border-radius: {RADIUS.md}px; padding: {SPACE.xs + 1}px {SPACE.md}px; }}
QPushButton:hover {{ background: {s.hover}; }}
QPushButton:pressed {{ background: {s.pressed}; }}
QPushButton:disabled {{ color: {s.text_disabled}; }}
QPushButton:focus {{ border: 2px solid {s.accent}; padding: {SPACE.xs}px {SPACE.md - 1}px; }}
QPushButton[role="primary"] {{ background: {s.accent}; color: {s.on_accent};
    border-color: {s.accent}; }}
QPushButton[role="primary"]:hover {{ background: {s.accent_hover}; }}
QPushButton[role="primary"]:focus {{ border-color: {s.on_accent}; }}
QPushButton[role="segment"] {{ padding: {SPACE.xs}px {SPACE.sm}px; }}
QPushButton[role="segment"]:focus {{ padding: {SPACE.xs - 1}px {SPACE.sm - 1}px; }}
QPushButton[role="segment"]:checked {{ background: {s.selected}; border-color: {s.accent};
    color: {s.text}; }}

QToolButton {{ color: {s.text}; background: transparent; border: 1px solid transparent;
    border-radius: {RADIUS.md}px; padding: {SPACE.xs}px; }}
QToolButton:hover {{ background: {s.hover}; }}
QToolButton:pressed, QToolButton:checked {{ background: {s.pressed}; }}
QToolButton:disabled {{ color: {s.text_disabled}; }}
QToolButton:focus {{ border: 2px solid {s.accent}; padding: {SPACE.xs - 1}px; }}
QToolButton::menu-indicator {{ image: none; width: 0; }}
QToolButton[role="chip"] {{ border: 1px solid {s.border}; border-radius: {RADIUS.lg}px;
    padding: {SPACE.xxs + 1}px {SPACE.sm}px; color: {s.text}; }}
QToolButton[role="chip"]:checked {{ background: {s.selected}; border-color: {s.accent}; }}
QToolButton[role="chip"]:hover {{ background: {s.hover}; }}
QToolButton[role="chip"]:focus {{ border: 2px solid {s.accent};
    padding: {SPACE.xxs}px {SPACE.sm - 1}px; }}
QToolButton[role="disclosure"] {{ border: 0; padding: {SPACE.xs}px 0; font-weight: 600; }}
QToolButton[role="disclosure"]:hover {{ background: transparent; color: {s.link}; }}
QToolButton[role="disclosure"]:focus {{ border: 0; padding: {SPACE.xs}px 0; color: {s.link};
    text-decoration: underline; }}

QLabel[role="caption"] {{ color: {s.text_muted}; font-size: {caption}; }}
QLabel[role="muted"] {{ color: {s.text_muted}; }}
QLabel[role="subtitle"] {{ font-size: {subtitle}; font-weight: 600; }}
QLabel[role="title"] {{ font-size: {title}; font-weight: 600; }}
QLabel[role="hero"] {{ font-size: {hero}; font-weight: 600; }}
QLabel[role="section"] {{ color: {s.text_muted}; font-size: {caption}; font-weight: 600; }}
QLabel[changed="true"], QCheckBox[changed="true"] {{ color: {s.link}; font-weight: 600; }}

#conversationList, #paramPanel {{ background: {s.sidebar}; }}
#paramPanel[overlay="true"], #conversationList[overlay="true"] {{
    border: 1px solid {s.border_strong}; }}
#header {{ background: {s.base}; border-bottom: 1px solid {s.border}; }}
#chatColumn {{ background: {s.base}; }}
QListWidget#conversationView, QListWidget#settingsNav {{ background: {s.sidebar}; border: 0;
    outline: 0; }}
QListWidget#conversationView {{ border: 2px solid transparent; border-radius: {RADIUS.md}px; }}
QListWidget#conversationView:focus {{ border-color: {s.accent}; }}
QListWidget#conversationView::item, QListWidget#settingsNav::item {{ color: {s.text};
    padding: {SPACE.sm}px; border-radius: {RADIUS.md}px; margin: 1px {SPACE.xs}px; }}
QListWidget#conversationView::item:hover, QListWidget#settingsNav::item:hover {{
    background: {s.hover}; }}
QListWidget#conversationView::item:selected, QListWidget#settingsNav::item:selected {{
    background: {s.selected}; color: {s.text}; }}
QGroupBox {{ border: 1px solid {s.border}; border-radius: {RADIUS.md}px;
    margin-top: {SPACE.lg}px; padding: {SPACE.sm}px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: {SPACE.sm}px; padding: 0 {SPACE.xs}px;
    color: {s.text}; font-weight: 600; }}

#transcript {{ background: {s.base}; border: 2px solid {s.base}; padding: 0; }}
#transcript:focus {{ border-color: {s.accent}; }}
#composerFrame {{ background: {s.base}; border: 1px solid {s.border_strong};
    border-radius: {RADIUS.xl}px; }}
#composerFrame[focus="true"] {{ border-color: {s.accent}; }}
#composerFrame[drop="true"] {{ border: 2px dashed {s.accent}; }}
#composerFrame QPlainTextEdit {{ border: 0; background: transparent;
    padding: {SPACE.xs}px {SPACE.xs}px; }}
QPushButton#sendButton {{ background: {s.accent}; color: {s.on_accent}; border: 0;
    border-radius: {half_send}px; padding: 0; min-width: {LAYOUT.send_button}px;
    max-width: {LAYOUT.send_button}px; min-height: {LAYOUT.send_button}px;
    max-height: {LAYOUT.send_button}px; }}
QPushButton#sendButton:hover {{ background: {s.accent_hover}; }}
QPushButton#sendButton:focus {{ border: 2px solid {s.on_accent}; }}

#banner {{ background: {s.info_bg}; border: 0; border-radius: {RADIUS.md}px; }}
#banner QLabel {{ color: {s.text}; }}

#welcomePanel, #welcomeContent {{ background: {s.base}; border: 0; }}
#startCard {{ background: {s.raised}; border: 1px solid {s.border};
    border-radius: {RADIUS.lg}px; }}
#startCard:hover {{ border-color: {s.accent}; }}
#dropZone {{ background: {s.reasoning_bg}; border: 2px dashed {s.border_strong};
    border-radius: {RADIUS.lg}px; }}
#dropZone[drop="true"] {{ border-color: {s.accent}; background: {s.selected}; }}

#attachmentCard {{ background: {s.raised}; border: 1px solid {s.border};
    border-radius: {RADIUS.md}px; }}
#trayScroller, #trayScroller > QWidget, #trayScroller > QWidget > QWidget {{
    background: transparent; }}
QLabel[role="problem"] {{ color: {s.error}; }}
QLabel[role="filmCell"] {{ background: {s.border}; border-radius: {RADIUS.sm}px; }}

#pickerPopup {{ background: {s.raised}; border: 1px solid {s.border_strong};
    border-radius: {RADIUS.lg}px; }}
#pickerPopup QTreeView {{ background: {s.raised}; border: 0; outline: 0; }}
"""
