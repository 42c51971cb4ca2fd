"""The browser fixture for the web workspace's tests."""

from tests.web.browser import chromium

__all__ = ["chromium"]
