"""Where files go: under QWENVL_DESKTOP_HOME when set, the platform's folders otherwise."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from qwenvl_desktop.core import paths


def test_override_puts_everything_under_home(isolated_home: Path) -> None:
    assert paths.home_override() == isolated_home
    assert paths.config_dir() == isolated_home / "config"
    assert paths.data_dir() == isolated_home / "data"
    assert paths.cache_dir() == isolated_home / "cache"
    assert paths.log_dir() == isolated_home / "logs"
    assert paths.conversations_dir() == isolated_home / "data" / "conversations"
    assert paths.settings_file() == isolated_home / "config" / "settings.json"


def test_folders_are_created_on_demand(isolated_home: Path) -> None:
    assert not (isolated_home / "logs").exists()
    assert paths.log_dir().is_dir()
    assert paths.conversations_dir().is_dir()
    assert paths.settings_file().parent.is_dir()
    assert not paths.settings_file().exists()


def test_override_expands_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("QWENVL_DESKTOP_HOME", "~/portable")
    assert paths.home_override() == tmp_path / "portable"
    assert paths.config_dir() == tmp_path / "portable" / "config"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_without_override_uses_platform_dirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("QWENVL_DESKTOP_HOME")
    else:
        monkeypatch.setenv("QWENVL_DESKTOP_HOME", value)
    # Keep the "standard" folders inside the test's own temp dir.
    for name, sub in (("user_config_path", "cfg"), ("user_data_path", "dat"),
                      ("user_cache_path", "cch"), ("user_log_path", "lg")):
        target = tmp_path / sub / "qwenvl-desktop"
        monkeypatch.setattr(platformdirs, name,
                            lambda app, *_a, _t=target, **_k: _t if app else None)
    assert paths.home_override() is None
    assert paths.config_dir() == tmp_path / "cfg" / "qwenvl-desktop"
    assert paths.data_dir() == tmp_path / "dat" / "qwenvl-desktop"
    assert paths.cache_dir() == tmp_path / "cch" / "qwenvl-desktop"
    assert paths.log_dir() == tmp_path / "lg" / "qwenvl-desktop"
    assert paths.conversations_dir() == tmp_path / "dat" / "qwenvl-desktop" / "conversations"
    assert paths.settings_file() == tmp_path / "cfg" / "qwenvl-desktop" / "settings.json"
    assert (tmp_path / "lg" / "qwenvl-desktop").is_dir()


def test_default_app_name_is_qwenvl_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QWENVL_DESKTOP_HOME")
    seen: list[str] = []

    def fake(app: str, appauthor: object = None) -> Path:
        seen.append(app)
        return Path("/nonexistent-but-unused")

    monkeypatch.setattr(platformdirs, "user_config_path", fake)
    monkeypatch.setattr(paths, "_ensure", lambda p: p)
    assert paths.config_dir() == Path("/nonexistent-but-unused")
    assert seen == ["qwenvl-desktop"]
