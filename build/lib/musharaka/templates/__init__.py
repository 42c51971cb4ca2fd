"""Jinja2 templates of every document, Arabic (right to left) and English, with their labels."""
