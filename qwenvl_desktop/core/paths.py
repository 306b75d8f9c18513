"""Where Qwen-VL Desktop keeps its files.

With `QWENVL_DESKTOP_HOME` set, everything (config, data, cache, logs) lives under that
one folder: portable installs use it, and every test points it at a temporary folder
so no test touches the real machine. Otherwise the platform's standard per-user
folders are used (XDG on Linux, Application Support on macOS, AppData on Windows).

Folders are created when asked for, so callers never see a missing directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "qwenvl-desktop"
HOME_ENV = "QWENVL_DESKTOP_HOME"
SETTINGS_NAME = "settings.json"

__all__ = [
    "APP_NAME",
    "HOME_ENV",
    "cache_dir",
    "config_dir",
    "conversations_dir",
    "data_dir",
    "home_override",
    "log_dir",
    "settings_file",
]


def home_override() -> Path | None:
    """The portable home from `QWENVL_DESKTOP_HOME`, or None when it is unset or empty."""
    value = os.environ.get(HOME_ENV, "").strip()
    if not value:
        return None
    return Path(value).expanduser()


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dir(sub: str, standard: Path) -> Path:
    home = home_override()
    return _ensure(home / sub if home is not None else standard)


def config_dir() -> Path:
    """Settings (never keys: those live in the OS keyring)."""
    return _dir("config", platformdirs.user_config_path(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The person's own data: the conversation library."""
    return _dir("data", platformdirs.user_data_path(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Files that may be deleted at any time (fetched model lists, thumbnails)."""
    return _dir("cache", platformdirs.user_cache_path(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return _dir("logs", platformdirs.user_log_path(APP_NAME, appauthor=False))


def conversations_dir() -> Path:
    return _ensure(data_dir() / "conversations")


def settings_file() -> Path:
    """The settings JSON file (its folder exists; the file itself may not yet)."""
    return config_dir() / SETTINGS_NAME
