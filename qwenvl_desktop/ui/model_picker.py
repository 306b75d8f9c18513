"""The model picker: every provider's models in one searchable list.

Grouped by provider (its row says where its key comes from), each model on two lines —
its name, then its id and context length — with badges for what it can do (vision,
thinking, video, grounding) and "guessed" for a model the catalog does not know. Typing
filters by name, id or provider; Enter or a click chooses. Full names are never cut:
the popup is as wide as they need, and every row has its whole description as tooltip.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Model, Provider
from ..core.i18n import N_, _
from .model_captions import model_caption, model_tooltip
from .theme import scheme
from .theme.icons import icon
from .theme.tokens import FONT_SCALE, RADIUS, SPACE

__all__ = ["ModelPicker", "badges", "context_text"]

PROVIDER_ROLE = Qt.ItemDataRole.UserRole
MODEL_ROLE = Qt.ItemDataRole.UserRole + 1
BADGES_ROLE = Qt.ItemDataRole.UserRole + 2
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 3
LABEL_ROLE = Qt.ItemDataRole.UserRole + 4

_BADGE_TOKENS = {N_("Vision"): "badge_vision", N_("Thinking"): "badge_thinking",
                 N_("Video"): "badge_video", N_("Grounding"): "badge_grounding",
                 N_("Guessed"): "badge_grounding"}


def badges(model: Model) -> list[str]:
    """What the model can do, as the picker's badges."""
    found = []
    if model.vision:
        found.append(_("Vision"))
    if model.thinking != "none":
        found.append(_("Thinking"))
    if model.vision and model.video:
        found.append(_("Video"))
    if model.vision and model.grounding:
        found.append(_("Grounding"))
    if model.guessed:
        found.append(_("Guessed"))
    return found


def context_text(model: Model) -> str:
    """"262K context", or "" when unknown."""
    tokens = model.context_length
    if tokens <= 0:
        return ""
    if tokens >= 1_000_000:
        return _("{value:g}M context").format(value=tokens / 1_000_000)
    return _("{round}K context").format(round=round(tokens / 1000))


class _RowDelegate(QStyledItemDelegate):
    """Provider rows as small headings; model rows as name, details and badges."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        lines = 1 if index.data(MODEL_ROLE) is None else 2
        height = option.fontMetrics.height() * lines + SPACE.sm * (2 if lines == 2 else 1.5)
        return QSize(option.rect.width(), int(height))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        s = scheme()
        painter.save()
        rect = QRect(option.rect)
        model_id = index.data(MODEL_ROLE)
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        if model_id is not None and option.state & (QStyle.StateFlag.State_Selected
                                                    | QStyle.StateFlag.State_MouseOver):
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            selected = option.state & QStyle.StateFlag.State_Selected
            painter.setBrush(QColor(s.selected if selected else s.hover))
            painter.drawRoundedRect(rect.adjusted(SPACE.xs, 1, -SPACE.xs, -1), RADIUS.md,
                                    RADIUS.md)
        font = QFont(option.font)
        metrics = QFontMetrics(font)
        left = rect.left() + SPACE.md
        if model_id is None:           # a provider heading
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor(s.text if enabled else s.text_disabled))
            text_rect = rect.adjusted(SPACE.sm, 0, -SPACE.md, 0)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, str(index.data(LABEL_ROLE)))
            painter.setFont(option.font)
            painter.setPen(QColor(s.text_muted if enabled else s.text_disabled))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             str(index.data(DETAIL_ROLE)))
            painter.restore()
            return
        # Badges at the right, then the two lines in what is left.
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() * FONT_SCALE.caption))
        small_metrics = QFontMetrics(small)
        x = rect.right() - SPACE.md
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for badge in reversed(index.data(BADGES_ROLE) or []):
            token = {_(k): v for k, v in _BADGE_TOKENS.items()}[badge]
            width = small_metrics.horizontalAdvance(badge) + SPACE.sm * 2
            height = small_metrics.height() + SPACE.xxs * 2
            box = QRect(x - width, rect.center().y() - height // 2, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(s.get(f"{token}_bg")))
            painter.drawRoundedRect(box, RADIUS.sm, RADIUS.sm)
            painter.setPen(QColor(s.get(token)))
            painter.setFont(small)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, badge)
            x -= width + SPACE.xs
        room = max(0, x - SPACE.sm - left)
        top = rect.top() + SPACE.sm
        painter.setFont(font)
        painter.setPen(QColor(s.text if enabled else s.text_disabled))
        label = metrics.elidedText(str(index.data(LABEL_ROLE)), Qt.TextElideMode.ElideMiddle,
                                   room)
        painter.drawText(QRect(left, top, room, metrics.height()), Qt.AlignmentFlag.AlignLeft,
                         label)
        painter.setPen(QColor(s.text_muted if enabled else s.text_disabled))
        detail = metrics.elidedText(str(index.data(DETAIL_ROLE)), Qt.TextElideMode.ElideMiddle,
                                    room)
        painter.drawText(QRect(left, top + metrics.height(), room, metrics.height()),
                         Qt.AlignmentFlag.AlignLeft, detail)
        painter.restore()


class ModelPicker(QFrame):
    """The popup list. `chosen(provider_id, model_id)` when the person picks a model."""

    chosen = Signal(str, str)
    vision_menu_requested = Signal(str, str, QPoint)     # provider, model, global position

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("pickerPopup")
        self.setAccessibleName(_("Choose a model"))
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(_("Search models and providers"))
        self.search.setAccessibleName(_("Search models"))
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName(_("Models"))
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setUniformRowHeights(False)
        self.tree.setMouseTracking(True)
        self.tree.setItemDelegate(_RowDelegate(self.tree))
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(SPACE.sm, SPACE.sm, SPACE.sm, SPACE.sm)
        layout.setSpacing(SPACE.sm)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        self.search.textChanged.connect(self.filter)
        self.search.installEventFilter(self)
        self.tree.itemClicked.connect(self._on_item)
        self.tree.itemActivated.connect(self._on_item)
        self.tree.customContextMenuRequested.connect(self._on_menu)
        self._providers: dict[str, QTreeWidgetItem] = {}
        self._models: dict[tuple[str, str], QTreeWidgetItem] = {}

    # --- filling --------------------------------------------------------------------

    def fill(self, groups: list[tuple[Provider, str, str, list[Model]]],
             current: tuple[str, str]) -> None:
        """`groups`: (provider, key mark, key tooltip, its models) in the order shown."""
        self.tree.clear()
        self._providers.clear()
        self._models.clear()
        for provider, mark, tip, models in groups:
            heading = QTreeWidgetItem(self.tree, [f"{provider.name}   {mark}"])
            heading.setData(0, PROVIDER_ROLE, provider.id)
            heading.setData(0, LABEL_ROLE, provider.name)
            heading.setData(0, DETAIL_ROLE, mark)
            heading.setToolTip(0, tip)
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled if models else Qt.ItemFlag.NoItemFlags)
            self._providers[provider.id] = heading
            for model in models:
                item = QTreeWidgetItem(self.tree, [model_caption(model)])
                item.setData(0, PROVIDER_ROLE, provider.id)
                item.setData(0, MODEL_ROLE, model.id)
                item.setData(0, LABEL_ROLE, model.label)
                detail = " · ".join(p for p in (model.id, context_text(model)) if p)
                item.setData(0, DETAIL_ROLE, detail)
                item.setData(0, BADGES_ROLE, badges(model))
                item.setToolTip(0, f"{provider.name}\n{model_tooltip(model)}")
                self._models[(provider.id, model.id)] = item
        self.select(*current)
        self.filter(self.search.text())

    def select(self, provider_id: str, model_id: str) -> None:
        item = self._models.get((provider_id, model_id))
        if item is not None:
            self.tree.setCurrentItem(item)

    # --- what is listed (the model bar and tests read it) -------------------------------

    def provider_ids(self) -> list[str]:
        return list(self._providers)

    def provider_text(self, provider_id: str) -> str:
        return self._providers[provider_id].text(0)

    def provider_tooltip(self, provider_id: str) -> str:
        return self._providers[provider_id].toolTip(0)

    def provider_enabled(self, provider_id: str) -> bool:
        return bool(self._providers[provider_id].flags() & Qt.ItemFlag.ItemIsEnabled)

    def model_captions(self, provider_id: str) -> dict[str, str]:
        return {mid: item.text(0) for (pid, mid), item in self._models.items()
                if pid == provider_id}

    def model_tooltip(self, provider_id: str, model_id: str) -> str:
        return self._models[(provider_id, model_id)].toolTip(0)

    def model_badges(self, provider_id: str, model_id: str) -> list[str]:
        return list(self._models[(provider_id, model_id)].data(0, BADGES_ROLE))

    def model_detail(self, provider_id: str, model_id: str) -> str:
        return str(self._models[(provider_id, model_id)].data(0, DETAIL_ROLE))

    def visible_models(self) -> list[tuple[str, str]]:
        return [key for key, item in self._models.items() if not item.isHidden()]

    # --- searching and choosing -----------------------------------------------------

    def filter(self, text: str) -> None:
        """Show the models whose name, id or provider contains every word typed."""
        words = text.lower().split()
        shown_in: dict[str, bool] = {}
        for (pid, _mid), item in self._models.items():
            haystack = " ".join((item.text(0), str(item.data(0, DETAIL_ROLE)),
                                 self._providers[pid].text(0))).lower()
            visible = all(word in haystack for word in words)
            item.setHidden(not visible)
            shown_in[pid] = shown_in.get(pid, False) or visible
        for pid, heading in self._providers.items():
            heading.setHidden(bool(words) and not shown_in.get(pid, False))
        current = self.tree.currentItem()
        if current is None or current.isHidden():
            first = next((i for i in self._models.values() if not i.isHidden()), None)
            if first is not None:
                self.tree.setCurrentItem(first)

    def _on_item(self, item: QTreeWidgetItem) -> None:
        model_id = item.data(0, MODEL_ROLE)
        if model_id is None:
            return
        self.hide()
        self.chosen.emit(str(item.data(0, PROVIDER_ROLE)), str(model_id))

    def _on_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is not None and item.data(0, MODEL_ROLE) is not None:
            self.vision_menu_requested.emit(str(item.data(0, PROVIDER_ROLE)),
                                            str(item.data(0, MODEL_ROLE)),
                                            self.tree.viewport().mapToGlobal(pos))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Up, Down and Enter in the search field move in and choose from the list.
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                current = self.tree.currentItem()
                if current is not None and not current.isHidden():
                    self._on_item(current)
                return True
        return False

    def _step(self, delta: int) -> None:
        visible = [i for i in self._models.values() if not i.isHidden()]
        if not visible:
            return
        current = self.tree.currentItem()
        index = visible.index(current) if current in visible else -1
        target = visible[max(0, min(len(visible) - 1, index + delta))]
        self.tree.setCurrentItem(target)
        self.tree.scrollToItem(target)

    def popup_below(self, anchor: QWidget, width_hint: int,
                    on_hidden: Callable[[], None] | None = None) -> None:
        """Show under (or above, near the bottom of the screen) `anchor`, search focused."""
        del on_hidden
        screen = anchor.screen().availableGeometry()
        width = min(max(width_hint, 640), screen.width() - 2 * SPACE.lg)
        height = min(460, screen.height() // 2)
        origin = anchor.mapToGlobal(QPoint(0, anchor.height() + SPACE.xs))
        if origin.y() + height > screen.bottom():
            origin = anchor.mapToGlobal(QPoint(0, -height - SPACE.xs))
        # Inside the window when it is wide enough, else inside the screen.
        frame = anchor.window().frameGeometry()
        right = frame.right() if frame.width() >= width + 2 * SPACE.sm else screen.right()
        x = max(screen.left() + SPACE.sm, min(origin.x(), right - width - SPACE.sm))
        self.setGeometry(x, max(screen.top(), origin.y()), width, height)
        self.search.clear()
        self.filter("")
        self.show()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)
        current = self.tree.currentItem()
        if current is not None:
            self.tree.scrollToItem(current)
