"""The messages of a conversation as a tree of branches, and the path that is shown.

Nothing the person does (retry, regenerate, edit and resend) removes a turn: it starts a
new branch beside the old one. So every message has a parent (None for the first one),
messages with the same parent are siblings in the order they were made, and each fork
remembers which child was chosen last. The *visible path* runs from the root through
the chosen child of every fork (the newest child where nothing was chosen); it is what
the transcript shows, what is sent as history and what is exported.

`MessageTree.messages` is that path as a list the caller may read but not change:
messages are added with `append` (to the end of the path) or `add` (under any parent),
and only `remove` takes them out — together with everything that followed them, given
back as a `RemovedBranch` that `restore` puts back exactly where it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from .conversation import Message, StoredImage

__all__ = ["MessagePath", "MessageTree", "RemovedBranch"]


def _read_only(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError("Conversation.messages is the visible path and cannot be changed in "
                    "place; use Conversation.append / add / remove")


class MessagePath(list["Message"]):
    """The visible path: an ordinary list to read, refusing every change in place."""

    append = extend = insert = remove = pop = clear = sort = reverse = _read_only
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only


@dataclass
class RemovedBranch:
    """A message taken out of the tree with everything below it, ready to be put back."""

    message_id: str
    parent_id: str | None
    position: int                       # among its siblings, when it was removed
    was_visible: bool                   # on the visible path when it was removed
    messages: list[Message]             # the message and its descendants, oldest first
    parents: dict[str, str | None]
    children: dict[str, list[str]]
    chosen: dict[str, str]              # choices at forks inside the branch
    images: dict[str, StoredImage] = field(default_factory=dict)   # no longer used elsewhere

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def branches(self) -> int:
        """How many separate lines of conversation were below the message (its leaves)."""
        return sum(1 for m in self.messages if not self.children.get(m.id))


class MessageTree:
    """Messages linked to their parents, with the chosen child remembered at each fork."""

    def __init__(self) -> None:
        self._nodes: dict[str, Message] = {}             # every message, in the order added
        self._parent: dict[str, str | None] = {}
        self._children: dict[str | None, list[str]] = {}
        self._chosen: dict[str | None, str] = {}
        self._path: MessagePath | None = None

    # --- reading ----------------------------------------------------------------------

    @property
    def messages(self) -> MessagePath:
        """The visible path, first message first (read it; never change it in place)."""
        if self._path is None:
            self._path = MessagePath(self._nodes[i] for i in self._walk(None))
        return self._path

    def all_messages(self) -> list[Message]:
        """Every message of every branch, in the order they were added."""
        return list(self._nodes.values())

    def message(self, message_id: str) -> Message:
        """Any message of the tree (KeyError when there is none with that id)."""
        return self._nodes[message_id]

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._nodes

    def parent_of(self, message_id: str) -> str | None:
        return self._parent[message_id]

    def children_of(self, message_id: str | None) -> list[str]:
        return list(self._children.get(message_id, ()))

    def siblings(self, message_id: str) -> list[str]:
        """The ids of the message and its siblings, oldest first."""
        return list(self._children[self._parent[message_id]])

    def branch_position(self, message_id: str) -> tuple[int, int]:
        """(n, count): the message is the n-th (from 1) of `count` siblings."""
        siblings = self._children[self._parent[message_id]]
        return siblings.index(message_id) + 1, len(siblings)

    def path_to(self, message_id: str) -> list[Message]:
        """The messages from the root down to `message_id`, that one included."""
        chain: list[Message] = []
        current: str | None = message_id
        while current is not None:
            chain.append(self._nodes[current])
            current = self._parent[current]
        chain.reverse()
        return chain

    def subtree_ids(self, message_id: str) -> list[str]:
        """The message and everything below it, parents before children."""
        found = [message_id]
        index = 0
        while index < len(found):
            found.extend(self._children.get(found[index], ()))
            index += 1
        return found

    def chosen_children(self) -> list[str]:
        """The child shown at each fork (for saving: the visible branch survives reopening)."""
        return [self._chosen_child(parent, kids)
                for parent, kids in self._children.items() if len(kids) > 1]

    # --- changing ---------------------------------------------------------------------

    def append(self, message: Message) -> Message:
        """Add `message` after the last message of the visible path."""
        path = self.messages
        return self.add(message, path[-1].id if path else None)

    def add(self, message: Message, parent_id: str | None) -> Message:
        """Add `message` as the newest child of `parent_id` (None: a new first message)
        and make it the visible branch."""
        if message.id in self._nodes:
            raise ValueError(f"message {message.id} is already in the conversation")
        if parent_id is not None and parent_id not in self._nodes:
            raise KeyError(parent_id)
        path = self._path
        at_end = path is not None and (
            (parent_id is None and not path) or (bool(path) and path[-1].id == parent_id))
        self._nodes[message.id] = message
        self._parent[message.id] = parent_id
        self._children.setdefault(parent_id, []).append(message.id)
        if at_end and parent_id is not None and self._children[parent_id] == [message.id]:
            # The usual case, a new turn at the end: no fork changed, extend the path.
            assert path is not None
            list.append(path, message)
        else:
            self.choose(message.id)
        self._changed()
        return message

    def choose(self, message_id: str) -> None:
        """Show the branch through `message_id` (below it, the choices made before)."""
        current: str | None = message_id
        while current is not None:
            parent = self._parent[current]
            self._chosen[parent] = current
            current = parent
        self._path = None

    def switch_branch(self, message_id: str, step: int) -> str:
        """Show the sibling `step` places away (-1: the previous one); the id now shown.

        Stops at the first and the last sibling rather than wrapping around.
        """
        siblings = self._children[self._parent[message_id]]
        index = min(max(siblings.index(message_id) + step, 0), len(siblings) - 1)
        self.choose(siblings[index])
        self._changed()
        return siblings[index]

    def remove_branch(self, message_id: str) -> RemovedBranch:
        """Take a message and everything below it out of the tree; `restore_branch` puts
        them back. The sibling before it (or after it) becomes the visible branch."""
        parent = self._parent[message_id]
        siblings = self._children[parent]
        position = siblings.index(message_id)
        visible = any(m.id == message_id for m in self.messages)
        ids = self.subtree_ids(message_id)
        id_set = set(ids)
        removed = RemovedBranch(
            message_id=message_id, parent_id=parent, position=position, was_visible=visible,
            messages=[m for i, m in self._nodes.items() if i in id_set],
            parents={i: self._parent[i] for i in ids},
            children={i: list(self._children[i]) for i in ids if i in self._children},
            chosen={p: c for p, c in self._chosen.items() if p in id_set})
        for i in ids:
            del self._nodes[i]
            del self._parent[i]
            self._children.pop(i, None)
            self._chosen.pop(i, None)
        siblings.remove(message_id)
        if not siblings:
            del self._children[parent]
            self._chosen.pop(parent, None)
        elif self._chosen.get(parent) == message_id or parent not in self._chosen:
            self._chosen[parent] = siblings[max(0, position - 1)]
        self._path = None
        self._changed()
        return removed

    def restore_branch(self, removed: RemovedBranch) -> None:
        """Put back what `remove_branch` took out, in its place among its siblings."""
        parent = removed.parent_id
        if parent is not None and parent not in self._nodes:
            raise KeyError(parent)
        clash = [m.id for m in removed.messages if m.id in self._nodes]
        if clash:
            raise ValueError(f"message {clash[0]} is already in the conversation")
        for message in removed.messages:
            self._nodes[message.id] = message
        self._parent.update(removed.parents)
        for node, kids in removed.children.items():
            self._children[node] = list(kids)
        self._chosen.update(removed.chosen)
        siblings = self._children.setdefault(parent, [])
        siblings.insert(min(removed.position, len(siblings)), removed.message_id)
        if removed.was_visible:
            self.choose(removed.message_id)
        self._path = None
        self._changed()

    def _graft(self, messages: Iterable[tuple[Message, str | None]],
               chosen: Iterable[str]) -> None:
        """Build the tree from checked saved data: (message, parent id) pairs in the order
        they were added, and the chosen child of forks (see storage_schema)."""
        for message, parent in messages:
            self._nodes[message.id] = message
            self._parent[message.id] = parent
            self._children.setdefault(parent, []).append(message.id)
        for child in chosen:
            self._chosen[self._parent[child]] = child
        self._path = None

    def _copy_tree_into(self, other: MessageTree, copies: dict[str, Message]) -> None:
        """Give `other` this tree's shape over `copies` (message id → its copy)."""
        other._nodes = copies
        other._parent = dict(self._parent)
        other._children = {k: list(v) for k, v in self._children.items()}
        other._chosen = dict(self._chosen)
        other._path = None if self._path is None else MessagePath(
            copies[m.id] for m in self._path)

    def _changed(self) -> None:
        """Called after every change of the tree (Conversation records the time)."""

    # --- internals ------------------------------------------------------------------------

    def _chosen_child(self, parent: str | None, kids: list[str]) -> str:
        chosen = self._chosen.get(parent)
        return chosen if chosen is not None and chosen in kids else kids[-1]

    def _walk(self, start: str | None) -> list[str]:
        ids: list[str] = []
        kids = self._children.get(start)
        while kids:
            child = self._chosen_child(start, kids)
            ids.append(child)
            start = child
            kids = self._children.get(start)
        return ids
