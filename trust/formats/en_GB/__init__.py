"""Formats for British English, the only interface language."""
