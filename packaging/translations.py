"""Extract the sentences marked for translation, update each language's catalog, compile it.

    .venv/bin/python packaging/translations.py          # extract, update every .po, compile .mo
    .venv/bin/python packaging/translations.py --check  # exit 1 when a .po or .mo is stale

Marked sentences are `_("…")`, `ngettext("…", "…", n)` and `N_("…")` calls anywhere in
the package (see qwenvl_desktop/core/i18n.py for the rules). New sentences arrive in each
`.po` untranslated; a translator fills `msgstr`, then this script compiles the `.mo` the app
reads. Babel does the extraction and the catalog work; it is a developer tool only (the
app reads `.mo` files with the standard library).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qwenvl_desktop"
LOCALE = PACKAGE / "locale"
DOMAIN = "qwenvl_desktop"
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}
# The test doubles and the loopback servers speak to developers, not to the person.
SKIPPED = ("testing",)


def template() -> Catalog:
    """Every marked sentence of the package, with where it is used."""
    catalog = Catalog(project="Qwen-VL Desktop", domain=DOMAIN, fuzzy=False)
    for path, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if Path(path).parts[0] in SKIPPED:
            continue
        catalog.add(message, None, [(f"qwenvl_desktop/{path}", lineno)],
                    auto_comments=comments, context=context)
    return catalog


def po_path(code: str) -> Path:
    return LOCALE / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def shipped_languages() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def read_catalog(code: str) -> Catalog:
    with po_path(code).open("rb") as fh:
        return read_po(fh, locale=code, domain=DOMAIN)


def updated(code: str) -> Catalog:
    """The language's catalog brought up to the current template (new sentences empty,
    vanished ones kept as obsolete so their translation is not lost)."""
    catalog = read_catalog(code)
    created = catalog.creation_date
    # No fuzzy matching: a guessed translation of a different sentence is worse than none.
    catalog.update(template(), no_fuzzy_matching=True, update_header_comment=False)
    # The template's date would make every run a change; the catalog keeps its own.
    catalog.creation_date = created
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    # File names without line numbers: an edit that only moves a sentence within its file
    # leaves the catalog as it was.
    write_po(out, catalog, width=100, sort_output=True, include_previous=False,
             omit_header=False, include_lineno=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def unfinished(catalog: Catalog) -> Iterator[tuple[Message, str]]:
    """Messages of `catalog` a person would see in English: with the reason."""
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            yield message, "marked fuzzy (unchecked)"
        elif not all(strings):
            yield message, "not translated"


def _content(catalog: Catalog) -> list[tuple[str, ...]]:
    """The sentences and translations of a catalog, without where they are used."""
    rows = [(repr(m.id), repr(m.string), str(m.fuzzy), str(m.context)) for m in catalog
            if m.id]
    rows += [("obsolete", repr(key)) for key in catalog.obsolete]
    return sorted(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only report stale catalogs (exit 1), write nothing")
    args = parser.parse_args(argv)
    stale = []
    for code in shipped_languages():
        catalog = updated(code)
        po, mo = po_path(code), po_path(code).with_suffix(".mo")
        want_po = po_bytes(catalog)
        want_mo = mo_bytes(catalog)
        if args.check:
            # Only what a person would see counts: where a sentence is used may change
            # without the catalog being out of date.
            if (_content(read_catalog(code)) != _content(catalog) or not mo.exists()
                    or mo.read_bytes() != want_mo):
                stale.append(code)
            continue
        po.write_bytes(want_po)
        mo.write_bytes(want_mo)
        missing = list(unfinished(catalog))
        print(f"{code}: {len(catalog)} sentences, {len(missing)} to translate"
              f" -> {po.relative_to(ROOT)}")
    if stale:
        print(f"stale catalogs: {', '.join(stale)} — run packaging/translations.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
