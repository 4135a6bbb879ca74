"""Exports: one small writer per format (JSON Lines, Jekyll posts)."""
