"""Textual widgets of the monitor: header, container table, timeline, legend."""
