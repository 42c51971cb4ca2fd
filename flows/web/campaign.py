"""The campaign pages of the workspace."""

from fastapi import FastAPI

from musharaka.flows.web.kit import Kit


def routes(app: FastAPI, kit: Kit) -> None:
    """Add the campaign pages' routes to `app`."""
