"""SQL: a weekly bundle's courses, their tables (dumps, derived tables in `derived/`), and the
email opt-in files."""
