"""Every call to the OS keyring, made off the caller's thread, and what it answered.

A keyring call can block for as long as someone else decides (an unlock prompt the
person has not answered, a Secret Service that stopped answering D-Bus), so calls run
in order on a worker thread (`bounded_call`) and the caller waits at most `wait`
seconds. Once one call is known to hang, later callers do not wait at all: their calls
queue behind it. A call that answers late still lands, and `add_listener` callbacks
are told. Entries read are kept in memory for the session, so asking again is a
dictionary look-up; keys that could not be saved are kept here for the session too.

Entries written by older versions: keyring's Secret Service backend finds entries by
service and username but writes them with an extra `application` attribute, so an
entry made by an older keyring release, or by hand with `secret-tool store service
qwenvl-desktop username <id>`, is read but not replaced by a write; the service then
returns either entry, and deleting one brings the other back. Such entries are read
(surrounding whitespace, like secret-tool's trailing newline, removed); saving removes
every entry for the key and writes one, and deleting removes them all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .bounded_call import BoundedCall, SerialWorker
from .errors import ConfigError, register_secret
from .i18n import _
from .keyring_backend import (
    KeyringTrouble,
    backend_label,
    default_backend,
    select_secure,
    timeout_trouble,
    trouble_for,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["SERVICE", "KeyringAccess", "Outcome", "check_key_text"]

log = logging.getLogger(__name__)

SERVICE = "qwenvl-desktop"

# How many entries one key may have before deleting them is given up as stuck.
_MAX_ENTRIES = 16

# The longest anything waits for the backend to be chosen. Choosing imports keyring
# and its backends (0.1-0.4 s here, more on a loaded machine) and asks D-Bus whether a
# Secret Service exists; it runs in the background from the start, and only a hung
# D-Bus makes it take seconds.
CHOICE_WAIT = 5.0

# Troubles after which reading again would only bring the unlock prompt back: reads
# wait for the person to act (save, delete, or `reload`).
_ASK_AGAIN_ONLY_WHEN_TOLD = ("locked", "no-collection")


@dataclass(frozen=True)
class Outcome:
    """How a save or delete went: done, or why not and whether it may still happen."""

    trouble: KeyringTrouble | None = None
    pending: bool = False
    """The call is still queued or running; it lands if the keyring answers later."""


class KeyringAccess:
    """The keyring (if a secure one is here), asked in the background, remembered."""

    def __init__(self, backend: KeyringBackend | None, wait: float,
                 choice_wait: float = CHOICE_WAIT) -> None:
        self.wait = wait
        self._choice_wait = max(wait, choice_wait)
        self._lock = threading.RLock()
        self._worker = SerialWorker("keyring")
        self._session: dict[str, str] = {}
        self._cache: dict[str, str | None] = {}
        self._unusable: set[str] = set()
        self._reads: dict[str, BoundedCall[None]] = {}
        self._stuck: BoundedCall[None] | None = None
        self._watched: set[BoundedCall[None]] = set()
        self._trouble: KeyringTrouble | None = None
        self._listeners: list[Callable[[], None]] = []
        self._offered: KeyringBackend | None = None
        self._backend: KeyringBackend | None = None
        # Chosen in the background; whatever needs the choice waits for it (bounded).
        self._choosing = self._worker.submit(lambda: self._choose(backend))

    def _chosen(self) -> None:
        """Wait (at most the choice's own bound) until the backend has been chosen."""
        if not self._choosing.done:
            self._await(self._choosing, self._choice_wait)

    # --- what is known ----------------------------------------------------------------

    @property
    def secure(self) -> bool:
        """True when keys saved now go to a secure OS keyring."""
        self._chosen()
        with self._lock:
            return self._backend is not None

    @property
    def backend_name(self) -> str:
        self._chosen()
        with self._lock:
            backend = self._backend
        return _("session memory") if backend is None else str(type(backend).name)

    @property
    def backend_label(self) -> str:
        """The backend's module and class (the rejected one when none is secure)."""
        self._chosen()
        with self._lock:
            backend = self._backend or self._offered
        return _("not chosen yet") if backend is None else backend_label(backend)

    @property
    def trouble(self) -> KeyringTrouble | None:
        """What went wrong the last time the keyring was asked, if anything."""
        with self._lock:
            return self._trouble

    def session_key(self, key_id: str) -> str | None:
        return self._session.get(key_id)

    def known(self, key_id: str) -> bool:
        """True when the keyring has answered for this entry (it may hold none)."""
        with self._lock:
            return key_id in self._cache

    def unusable(self, key_id: str) -> bool:
        """True when the entry holds text that cannot be a key (line breaks)."""
        with self._lock:
            return key_id in self._unusable

    # --- reading ----------------------------------------------------------------------

    def stored(self, key_id: str) -> str | None:
        """The entry's key: from memory, else read waiting at most `wait` seconds."""
        self._chosen()
        with self._lock:
            if key_id in self._cache:
                return self._cache[key_id]
            backend = self._backend
            if backend is None or self._asks_only_when_told():
                return None
            call = self._reads.get(key_id)
            fresh = call is None
            if call is None:
                call = self._worker.submit(lambda: self._read(backend, [key_id]))
                self._reads[key_id] = call
        if fresh:
            call.on_done(lambda done: self._read_finished(done, [key_id], notify=False))
        self._await(call, self.wait)
        with self._lock:
            return self._cache.get(key_id)

    def prefetch(self, key_ids: Iterable[str]) -> None:
        """Read these entries in the background (listeners are told when done); never
        waits, not even for the backend to be chosen."""
        with self._lock:
            wanted = [k for k in dict.fromkeys(key_ids)
                      if k not in self._cache and k not in self._reads]
            if not wanted or self._asks_only_when_told():
                return
            if self._choosing.done and self._backend is None:
                return
            call = self._worker.submit(lambda: self._read(None, wanted))
            for key_id in wanted:
                self._reads[key_id] = call
        call.on_done(lambda done: self._read_finished(done, wanted, notify=True))

    def reload(self) -> None:
        """Forget what was read and read it again (after the person unlocked the keyring,
        or changed keys from another program)."""
        with self._lock:
            known = list(self._cache) + list(self._reads)
            self._cache.clear()
            self._unusable.clear()
            if self._stuck is None:
                self._trouble = None
        self.prefetch(known)

    def refresh(self) -> None:
        """Read every entry read so far again, in the background, serving the old answers
        until the new ones arrive (listeners are told). Another program may have changed
        the keyring. Skipped while the keyring hangs or waits for the person to unlock it."""
        with self._lock:
            if (self._stuck is not None or self._asks_only_when_told()
                    or not self._choosing.done or self._backend is None):
                return
            known = [k for k in self._cache if k not in self._reads]
            if not known:
                return
            call = self._worker.submit(lambda: self._read(None, known))
            for key_id in known:
                self._reads[key_id] = call
        call.on_done(lambda done: self._read_finished(done, known, notify=True))

    def read_again(self, key_id: str) -> str | None:
        """`stored`, but asking the keyring again even if it answered "none" before
        (waiting at most `wait` seconds)."""
        with self._lock:
            if key_id not in self._reads and self._stuck is None:
                self._cache.pop(key_id, None)
        return self.stored(key_id)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every call submitted so far has ended (tests, terminal commands)."""
        return self._worker.submit(lambda: None).wait(timeout)

    # --- writing ----------------------------------------------------------------------

    def keep_for_session(self, key_id: str, key: str) -> None:
        with self._lock:
            self._session[key_id] = key

    def save(self, key_id: str, key: str) -> Outcome:
        """Save `key` in the keyring; when that fails or takes too long, it is kept for
        the session (and a late save still lands)."""
        self._chosen()
        with self._lock:
            backend = self._backend
        if backend is None:
            self.keep_for_session(key_id, key)
            return Outcome()
        landed: list[bool] = []
        call = self._worker.submit(lambda: self._write(backend, key_id, key, landed))
        return self._outcome(call, landed, lambda: self._session.update({key_id: key}))

    def remove(self, key_id: str) -> Outcome:
        """Delete every keyring entry for `key_id`, and its session key."""
        self._chosen()
        with self._lock:
            self._session.pop(key_id, None)
            backend = self._backend
        if backend is None:
            return Outcome()
        landed: list[bool] = []
        call = self._worker.submit(lambda: self._delete(backend, key_id, landed))
        return self._outcome(call, landed, lambda: None)

    def _outcome(self, call: BoundedCall[None], landed: list[bool],
                 fallback: Callable[[], None]) -> Outcome:
        in_time = self._await(call, self.wait)
        with self._lock:
            # Checked under the lock the worker lands under: no half-landed state.
            if landed:
                return Outcome()
            fallback()
            trouble = (trouble_for(call.error) if in_time and call.error is not None
                       else self._trouble or timeout_trouble(self.wait))
            self._trouble = trouble
        return Outcome(trouble, pending=not call.done)

    # --- listeners --------------------------------------------------------------------

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback()` whenever the keyring answers in the background (a prefetch,
        or a call that answered late). It runs on the keyring's worker thread. Returns
        a function that removes it."""
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:  # a listener's failure must not stop the keyring worker
                log.exception("A keyring listener failed")

    # --- the worker's side: every backend call happens here ---------------------------

    def _choose(self, given: KeyringBackend | None) -> None:
        offered = given if given is not None else default_backend()
        secure = select_secure(offered)
        with self._lock:
            self._offered, self._backend = offered, secure

    def _read(self, backend: KeyringBackend | None, key_ids: list[str]) -> None:
        if backend is None:     # a prefetch queued before the choice: decided by now
            with self._lock:
                backend = self._backend
            if backend is None:
                return
        for key_id in key_ids:
            try:
                value = backend.get_password(SERVICE, key_id)
            except Exception as err:  # whatever a backend raises is the keyring's trouble
                self._record_trouble(trouble_for(err))
                return
            with self._lock:
                self._trouble = None
                self._remember(key_id, value)

    def _remember(self, key_id: str, value: object) -> None:
        text = value.strip() if isinstance(value, str) else ""
        self._unusable.discard(key_id)
        if not text:
            self._cache[key_id] = None
            return
        try:
            check_key_text(text)
        except ConfigError:
            # Never sent: a line break would split the Authorization header.
            self._cache[key_id] = None
            self._unusable.add(key_id)
            return
        register_secret(text)
        self._cache[key_id] = text

    def _write(self, backend: KeyringBackend, key_id: str, key: str,
               landed: list[bool]) -> None:
        # Written first: a locked or refusing keyring fails here, before anything is
        # removed. Then every entry for the key (ours and any older one that this write
        # did not replace) is removed and ours written again, so exactly one is left.
        backend.set_password(SERVICE, key_id, key)
        if self._delete_all(backend, key_id) > 1:
            log.info("Removed older keyring entries for %s", key_id)
        backend.set_password(SERVICE, key_id, key)
        with self._lock:
            landed.append(True)
            self._trouble = None
            self._cache[key_id] = key
            self._unusable.discard(key_id)
            if self._session.get(key_id) == key:
                del self._session[key_id]

    def _delete(self, backend: KeyringBackend, key_id: str, landed: list[bool]) -> None:
        self._delete_all(backend, key_id)
        with self._lock:
            landed.append(True)
            self._trouble = None
            self._cache[key_id] = None
            self._unusable.discard(key_id)

    @staticmethod
    def _delete_all(backend: KeyringBackend, key_id: str) -> int:
        from keyring.errors import PasswordDeleteError

        for removed in range(_MAX_ENTRIES):
            try:
                backend.delete_password(SERVICE, key_id)
            except PasswordDeleteError:
                return removed
        raise RuntimeError(f"more than {_MAX_ENTRIES} entries for {key_id} would not go away")

    def _record_trouble(self, trouble: KeyringTrouble) -> None:
        with self._lock:
            self._trouble = trouble
        log.warning("Keyring: %s", trouble.reason)

    def _read_finished(self, call: BoundedCall[None], key_ids: list[str],
                       notify: bool) -> None:
        with self._lock:
            for key_id in key_ids:
                if self._reads.get(key_id) is call:
                    del self._reads[key_id]
        if notify:
            self._notify()

    def _asks_only_when_told(self) -> bool:
        return self._trouble is not None and self._trouble.kind in _ASK_AGAIN_ONLY_WHEN_TOLD

    # --- the caller's side: bounded waits ---------------------------------------------

    def _await(self, call: BoundedCall[None], timeout: float) -> bool:
        """Wait for `call` at most `timeout` seconds, and not at all while an earlier call
        is known to hang (it runs first) or someone already waited for this one. True
        when the call ended in time; otherwise listeners are told when it ends."""
        with self._lock:
            behind_stuck = self._stuck is not None and self._stuck is not call
        if not behind_stuck and not call.overdue:
            if call.wait(timeout):
                return True
            with self._lock:
                if self._stuck is None:
                    self._stuck = call
                    self._trouble = timeout_trouble(timeout)
            log.warning("Keyring: no answer within %g s; carrying on without it", timeout)
        elif call.done:
            return True
        with self._lock:
            watch = call not in self._watched
            self._watched.add(call)
        if watch:
            call.on_done(self._answered_late)
        return False

    def _answered_late(self, call: BoundedCall[None]) -> None:
        with self._lock:
            self._watched.discard(call)
            if self._stuck is call:
                self._stuck = None
            if call.error is not None:
                self._trouble = trouble_for(call.error)
            elif self._trouble is not None and self._trouble.kind == "timeout":
                self._trouble = None
        self._notify()


def check_key_text(key: str) -> str:
    """The key with surrounding whitespace removed; refuses empty and multi-line keys."""
    key = key.strip()
    if not key:
        raise ConfigError(_("The key is empty."))
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ConfigError(_("The key contains a line break or control character; "
                            "paste only the key itself."))
    return key
