"""Ocht command line."""
