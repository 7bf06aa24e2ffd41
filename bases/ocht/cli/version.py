"""The version shown by ``ocht --version`` (kept here so it costs no import)."""

VERSION = "0.1.0"
