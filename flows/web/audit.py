"""The audit pages of the workspace."""

from fastapi import FastAPI

from musharaka.flows.web.kit import Kit


def routes(app: FastAPI, kit: Kit) -> None:
    """Add the audit pages' routes to `app`."""
