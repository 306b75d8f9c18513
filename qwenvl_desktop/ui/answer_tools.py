"""What the window does with an answer's located things and tables.

* "⌖ …" links and annotated thumbnails open the `GroundingViewer`.
* "Copy as CSV" puts the table on the clipboard as CSV (plain text and text/csv), as TSV
  (text/tab-separated-values) and in the "Csv" format spreadsheets read on Windows.
* "Save as CSV…" writes it where the person chooses (UTF-8 with a byte-order mark, so
  spreadsheet programs read accents and CJK text right; `.tsv` writes tabs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QMimeData, QObject, Qt
from PySide6.QtGui import QGuiApplication

from qwenvl_desktop.core.errors import explain
from qwenvl_desktop.core.storage import atomic_write

from ..core.i18n import _

if TYPE_CHECKING:
    from qwenvl_desktop.core.tables import Table
    from qwenvl_desktop.services import Services

    from .main_window import MainWindow

__all__ = ["AnswerTools", "table_mime"]

_WINDOWS_CSV = 'application/x-qt-windows-mime;value="Csv"'


def table_mime(table: Table) -> QMimeData:
    """The clipboard contents for a table: CSV as text, and TSV for spreadsheets."""
    csv_text = table.to_csv()
    mime = QMimeData()
    mime.setText(csv_text)
    mime.setData("text/csv", QByteArray(csv_text.encode("utf-8")))
    mime.setData("text/tab-separated-values", QByteArray(table.to_tsv().encode("utf-8")))
    mime.setData(_WINDOWS_CSV, QByteArray(csv_text.encode("utf-8")))
    return mime


class AnswerTools(QObject):
    """Connects the transcript's located-things and table links to what they do."""

    def __init__(self, window: MainWindow, services: Services) -> None:
        super().__init__(window)
        self.w = window
        self.services = services
        window.transcript.located.catalog_source = lambda: self.services.catalog
        window.transcript.grounding_requested.connect(self.open_viewer)
        window.transcript.table_requested.connect(self.on_table)

    # --- located things -------------------------------------------------------------------

    def open_viewer(self, answer_id: str, sha: str = "") -> None:
        from .image_viewer import GroundingViewer

        conversation = self.w.current_conversation()
        grounding = self.w.transcript.located.grounding_for(conversation, answer_id)
        if grounding is None:
            self.w.statusBar().showMessage(
                _("Nothing to show: the image this answer is about is not in the conversation "
                  "any more."), 6000)
            return
        index = next((i for i, image in enumerate(grounding.images) if image.sha256 == sha), 0)
        viewer = GroundingViewer(grounding, index, self.w, file_dialogs=self.w.file_dialogs)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()

    # --- tables ---------------------------------------------------------------------------

    def _table(self, message_id: str, index: int) -> Table | None:
        conversation = self.w.current_conversation()
        if conversation is None:
            return None
        try:
            text = conversation.message(message_id).text
        except KeyError:
            return None
        from qwenvl_desktop.core.tables import find_tables  # at the first table action

        tables = find_tables(text)
        return tables[index] if 0 <= index < len(tables) else None

    def on_table(self, action: str, message_id: str, index: int) -> None:
        table = self._table(message_id, index)
        if table is None:
            self.w.statusBar().showMessage(_("That table is no longer in the conversation."), 5000)
            return
        if action == "copy-table":
            QGuiApplication.clipboard().setMimeData(table_mime(table))
            rows, columns = table.size
            self.w.statusBar().showMessage(
                _("Table copied as CSV ({rows} rows × {columns} columns; spreadsheets get "
                  "tab-separated cells).").format(rows=rows, columns=columns), 5000)
        else:
            self.save_table(table)

    def save_table(self, table: Table, path: Path | None = None) -> Path | None:
        if path is None:
            path = self.w.file_dialogs.save_file(
                self.w, "tables", _("Save table"), "table.csv",
                _("CSV (*.csv);;Tab-separated (*.tsv);;All files (*)"))
            if path is None:
                return None
            if not path.suffix:
                path = path.with_suffix(".csv")
        text = table.to_tsv() if path.suffix.lower() == ".tsv" else table.to_csv()
        try:
            atomic_write(path, text.encode("utf-8-sig"))
        except OSError as err:
            self.w.banner.show_notice(_("Could not save the table to {path}: {explain}").format(
                path=path, explain=explain(err)))
            return None
        self.w.statusBar().showMessage(_("Table saved to {path}").format(path=path), 5000)
        return path
