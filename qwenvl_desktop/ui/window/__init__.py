"""The main window's parts: views on the chat session and the glue to its commands.

Each part is built by `main_window.py` with only the widgets and callables it uses
(none holds the window); the state they show lives in `core.session.ChatSession`.
"""
