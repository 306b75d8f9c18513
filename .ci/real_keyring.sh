#!/usr/bin/env bash
# The app against a real Secret Service: gnome-keyring on a private D-Bus session,
# unlocked with a throwaway password, in a throwaway home (the machine's own keyrings
# are never touched). Run it as
#
#     dbus-run-session -- bash .ci/real_keyring.sh [--bundle DIR]
#
# It runs the tests marked real_keyring (pytest -m real_keyring), and with --bundle the
# frozen app's --self-test (the keyring must be `ok`, QWENVL_REQUIRE_SECURE_KEYRING=1)
# and a `key set` / `key status` / `key delete` round trip with the bundle.
# Needs: gnome-keyring, dbus (dbus-run-session, dbus-send); libsecret-tools is optional.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BUNDLE=""
if [ "${1:-}" = "--bundle" ]; then BUNDLE=$2; fi

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
    echo "no D-Bus session: run me as dbus-run-session -- bash $0" >&2
    exit 2
fi

bus_call() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets"
}

scratch=$(mktemp -d)
cleanup() {
    # The keyring daemon of this private bus (the one started below, or the one D-Bus
    # started after a test ended it), by its pid; it would also end with the bus.
    local pid
    pid=$(bus_call GetConnectionUnixProcessID 2>/dev/null | awk '/uint32/ {print $2}') || true
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
export HOME=$scratch/home XDG_DATA_HOME=$scratch/data XDG_CONFIG_HOME=$scratch/config \
       XDG_CACHE_HOME=$scratch/cache XDG_RUNTIME_DIR=$scratch/run
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# Services D-Bus starts on demand (a second keyring daemon after a test ends the first,
# the unlock prompter) get the same throwaway folders, not the machine's home.
dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.UpdateActivationEnvironment \
    "dict:string:string:HOME,$HOME,XDG_DATA_HOME,$XDG_DATA_HOME,XDG_CONFIG_HOME,$XDG_CONFIG_HOME,XDG_CACHE_HOME,$XDG_CACHE_HOME,XDG_RUNTIME_DIR,$XDG_RUNTIME_DIR" \
    >/dev/null

# --unlock reads the password from stdin and, with a fresh data folder, creates the
# "login" keyring with it (the default collection) and unlocks it; the daemon forks.
started=$SECONDS
# The tests lock the keyring and unlock it again with this password.
QWENVL_THROWAWAY_KEYRING_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '\n')
export QWENVL_THROWAWAY_KEYRING_PASSWORD
printf '%s' "$QWENVL_THROWAWAY_KEYRING_PASSWORD" \
    | gnome-keyring-daemon --unlock --components=secrets >/dev/null
# It claims org.freedesktop.secrets a moment after forking. Anything asking before
# that would make D-Bus start a second, locked daemon; so wait for the name.
for _ in $(seq 100); do
    if bus_call NameHasOwner 2>/dev/null | grep -q "boolean true"; then break; fi
    sleep 0.1
done
keyring_pid=$(bus_call GetConnectionUnixProcessID | awk '/uint32/ {print $2}')
if [ -z "$keyring_pid" ]; then
    echo "gnome-keyring-daemon did not claim org.freedesktop.secrets" >&2
    exit 1
fi
echo "gnome-keyring-daemon $keyring_pid owns org.freedesktop.secrets ($((SECONDS - started)) s)"

# What the app will use, and that the default collection is there and unlocked.
"$PY" - <<'EOF'
from contextlib import closing
from importlib.metadata import version

import keyring
import secretstorage

backend = keyring.get_keyring()
label = f"{type(backend).__module__}.{type(backend).__name__}"
print(f"keyring backend: {label} ({backend.name}); keyring {version('keyring')}, "
      f"SecretStorage {version('SecretStorage')}, jeepney {version('jeepney')}")
if label != "keyring.backends.SecretService.Keyring":
    raise SystemExit(f"expected the Secret Service backend, got {label}")
with closing(secretstorage.dbus_init()) as bus:
    default = secretstorage.get_default_collection(bus)
    if default.is_locked():
        raise SystemExit("the default collection is locked")
    print(f"default collection: '{default.get_label()}' ({default.collection_path}), unlocked")
EOF

export QWENVL_THROWAWAY_KEYRING=1
started=$SECONDS
"$PY" -m pytest -m real_keyring -p no:cacheprovider
echo "real-keyring tests took $((SECONDS - started)) s"

if [ -n "$BUNDLE" ]; then
    app=$BUNDLE/qwenvl-desktop
    started=$SECONDS
    QT_QPA_PLATFORM=offscreen QWENVL_REQUIRE_SECURE_KEYRING=1 "$app" --self-test \
        | tee "$scratch/self-test.txt"
    grep -q '^ok   keyring backend: keyring.backends.SecretService.Keyring' "$scratch/self-test.txt"
    grep -q '^ok   keyring round trip:' "$scratch/self-test.txt"

    export QWENVL_DESKTOP_HOME=$scratch/bundle-home
    key="sk-bundle-round-trip-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '%s\n' "$key" | "$app" key set dashscope-us
    "$app" key status dashscope-us | tee "$scratch/status.txt"
    grep -q 'key in the keyring (SecretService Keyring)' "$scratch/status.txt"
    if command -v secret-tool >/dev/null; then
        # Independently of the app: libsecret finds the entry and its value.
        [ "$(secret-tool lookup service qwenvl-desktop username dashscope-us)" = "$key" ]
        echo "secret-tool reads back the key the bundle stored"
    fi
    "$app" key delete dashscope-us
    "$app" key status dashscope-us | tee "$scratch/status.txt"
    grep -q 'no key' "$scratch/status.txt"
    if grep -rqF "$key" "$QWENVL_DESKTOP_HOME" "$XDG_DATA_HOME"; then
        echo "the bundle's key is in a file" >&2
        exit 1
    fi
    echo "bundle: self-test and key round trip passed ($((SECONDS - started)) s)"
fi
