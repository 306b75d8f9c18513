"""Whatever bytes a conversation file holds, loading either works or says why it cannot.

The loader's whole contract with the window is: a `Conversation` or a
`ConversationFileError`, never another exception (which would reach the person as a
crash). These properties throw arbitrary bytes, arbitrary JSON and damaged versions of
a real file at it, and count what was tried.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_samples import sample_conversation

from qwenvl_desktop.core.conversation import Conversation
from qwenvl_desktop.core.errors import ConversationFileError
from qwenvl_desktop.core.storage import FORMAT_ID, dumps, loads

TALLY: Counter[str] = Counter()

# deadline=None: no timing assertions; database=None: nothing written into the repo.
PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

VALID = dumps(sample_conversation())
VALID_DOC: dict[str, Any] = json.loads(VALID)

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)


@pytest.fixture(scope="module", autouse=True)
def report_tally(report_line: Callable[[str], None]) -> Iterator[None]:
    yield
    line = (f"conversation loader properties: {TALLY['tried']} cases tried, "
            f"{TALLY['loaded'] + TALLY['refused']} handled "
            f"({TALLY['loaded']} loaded, {TALLY['refused']} refused with a reason)")
    report_line(line)


def _check(data: bytes) -> None:
    """Load `data`: a Conversation or a ConversationFileError with a reason, nothing else."""
    TALLY["tried"] += 1
    refusal: ConversationFileError | None = None
    try:
        conv = loads(data, name="case.qwenvl")
    except ConversationFileError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.name == "case.qwenvl"
        assert refusal.reason.strip()
        TALLY["refused"] += 1
        return
    assert isinstance(conv, Conversation)
    # Anything that loads must also save and load again unchanged.
    assert loads(dumps(conv), name="again.qwenvl") == conv
    TALLY["loaded"] += 1


@PROPERTY
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    _check(data)


@PROPERTY
@given(json_values)
def test_arbitrary_json(value: Any) -> None:
    _check(json.dumps(value).encode())


@PROPERTY
@given(json_values)
def test_arbitrary_json_with_our_header(value: Any) -> None:
    doc = {"format": FORMAT_ID, "version": 1}
    if isinstance(value, dict):
        doc = {**value, **doc}
    else:
        doc["conversation"] = value
    _check(json.dumps(doc).encode())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON tree (except the big base64 strings)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


PLACES = _paths(VALID_DOC)


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(PLACES), st.one_of(st.just(...), json_values)),
                min_size=1, max_size=3))
def test_damaged_real_file(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    """A real file with one to three places replaced by arbitrary JSON, or removed."""
    doc = copy.deepcopy(VALID_DOC)
    for place, value in edits:
        parent: Any = doc
        try:
            for key in place[:-1]:
                parent = parent[key]
            if value is ...:
                del parent[place[-1]]
            else:
                parent[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue   # an earlier edit removed or replaced this place
    _check(json.dumps(doc).encode())


@PROPERTY
@given(st.integers(min_value=0, max_value=len(VALID)))
def test_real_file_cut_anywhere(length: int) -> None:
    _check(VALID[:length])


@PROPERTY
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(0, 255))
def test_real_file_with_one_byte_changed(position: int, byte: int) -> None:
    data = bytearray(VALID)
    data[position] = byte
    _check(bytes(data))
