"""The Qt-free core: providers, streaming, images, conversations, storage.

Nothing under this package may import PySide6, qasync or the UI; the terminal
command runs on it alone (and a test checks the rule).
"""
