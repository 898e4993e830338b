"""Logs: split a daily tracking log per course (the course of each event, simeon's tracklog rows)."""
