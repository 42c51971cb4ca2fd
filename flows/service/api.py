"""The service's API for the CLI: hand lifecycle runs over and follow them.

Every route but the health check needs `Authorization: Bearer <token>`, the token the service wrote
into its service file (see `discovery`); the health check says only that the service is up and its
version, so a probe needs no secret. The token is compared in constant time and never echoed.
"""

import secrets
from importlib.metadata import version

from fastapi import APIRouter, Depends, Header, HTTPException, status
from pydantic import BaseModel, Field

from musharaka.flows.engine.records import Refused
from musharaka.flows.service.runs import Runs, RunStatus, Stopping, UnknownRun


class AdvanceRequest(BaseModel):
    campaign_ids: list[str] = Field(min_length=1)


class AdvanceResponse(BaseModel):
    runs: dict[str, str]  # campaign -> flow-run id


class Health(BaseModel):
    status: str
    version: str


def api_router(runs: Runs, token: str) -> APIRouter:
    """The /api routes over `runs`, guarded by `token`."""
    expected = token.encode()

    def authorised(authorization: str | None = Header(default=None)) -> None:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a bearer token is required: the one in the service file of this workspace (var/service.json)",
                headers={"WWW-Authenticate": "Bearer"},
            )

    router = APIRouter(prefix="/api")
    guarded = [Depends(authorised)]

    @router.get("/health")
    def health() -> Health:
        return Health(status="ok", version=version("musharaka"))

    # plain `def` routes: FastAPI runs them on its thread pool, where Prefect's sync client may block
    @router.post("/advance", dependencies=guarded)
    def advance(request: AdvanceRequest) -> AdvanceResponse:
        try:
            return AdvanceResponse(runs=runs.submit(request.campaign_ids, now=None))  # the service acts at the clock
        except Refused as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None
        except Stopping as error:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from None

    @router.get("/runs/{run_id}", dependencies=guarded)
    def run_status(run_id: str) -> RunStatus:
        try:
            return runs.status(run_id)
        except UnknownRun:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no lifecycle run {run_id}") from None

    return router
