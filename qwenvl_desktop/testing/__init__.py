"""Test doubles that ship with the app: the loopback provider server and an in-memory
keyring. They live in the package (not under tests/) because `--self-test` in the
frozen app uses them too. Nothing here talks to the internet.
"""
