"""The board pages of the workspace."""

from fastapi import FastAPI

from musharaka.flows.web.kit import Kit


def routes(app: FastAPI, kit: Kit) -> None:
    """Add the board pages' routes to `app`."""
