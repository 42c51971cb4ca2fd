"""Rendering what people read: stage documents, calendars, reports and audit bundles."""
