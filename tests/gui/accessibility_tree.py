"""Walk a window's accessibility tree as a screen reader does, from
`QAccessible.queryAccessibleInterface` through `child(i)`, and list the interactive
controls a screen reader would announce without a name."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAccessible, QAccessibleInterface

__all__ = ["INTERACTIVE_ROLES", "Node", "unnamed_controls", "walk"]

Role = QAccessible.Role

#: Roles a person operates (and a screen reader must be able to name).
INTERACTIVE_ROLES = frozenset({
    Role.PushButton, Role.CheckBox, Role.RadioButton, Role.ComboBox,
    Role.Slider, Role.SpinBox, Role.EditableText, Role.Link, Role.ListItem,
    Role.MenuItem, Role.ButtonMenu, Role.ButtonDropDown, Role.PageTab, Role.TreeItem,
    Role.Dial, Role.ScrollBar,
})


@dataclass(frozen=True)
class Node:
    role: QAccessible.Role
    name: str
    description: str
    path: str           # class names (object names where set) from the root
    invisible: bool


def _label(iface: QAccessibleInterface) -> str:
    obj: QObject | None = iface.object()
    if obj is None:
        return iface.role().name
    name = obj.objectName()
    return f"{type(obj).__name__}#{name}" if name else type(obj).__name__


def walk(root: QObject, *, limit: int = 20000) -> list[Node]:
    """Every node under `root`'s accessible interface (depth first)."""
    top = QAccessible.queryAccessibleInterface(root)
    assert top is not None, "the window has no accessible interface"
    assert top.isValid()
    found: list[Node] = []
    stack: list[tuple[QAccessibleInterface, str]] = [(top, _label(top))]
    while stack and len(found) < limit:
        iface, path = stack.pop()
        state = iface.state()
        found.append(Node(iface.role(), iface.text(QAccessible.Text.Name),
                          iface.text(QAccessible.Text.Description), path,
                          bool(state.invisible)))
        for index in reversed(range(iface.childCount())):
            child = iface.child(index)
            if child is not None and child.isValid():
                stack.append((child, f"{path} > {_label(child)}"))
    return found


def unnamed_controls(root: QObject) -> list[Node]:
    """The interactive, visible nodes under `root` whose name is empty."""
    return [node for node in walk(root)
            if node.role in INTERACTIVE_ROLES and not node.invisible
            and not node.name.strip()]
