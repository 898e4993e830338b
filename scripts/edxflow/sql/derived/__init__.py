"""Derived per-course tables built from a course's decrypted SQL bundle members (simeon's builders)."""
