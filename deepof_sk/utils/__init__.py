"""Private helpers (not public API)."""
