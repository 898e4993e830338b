"""Warehouse: publish per-course files to Cloud Storage and load them into BigQuery or DuckDB
through one interface."""
