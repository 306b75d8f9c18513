"""Test doubles that ship with the app: the loopback provider server and an in-memory
keyring. They live in the package (not under tests/) because `--self-test` in the
frozen app uses them too. Nothing here talks to the internet.
"""

# A key that must never appear in any file, log or output (the secret-leak tests use it).
SENTINEL_KEY = "sk-SENTINEL-7f3a9c2e-never-write-me-0123456789"
