"""The web workspace of `musharaka serve`: passkey enrolment and sign-in, the inbox, gate pages, and
decisions signed with a passkey. Pages are rendered on the server, Arabic first, right to left.

Every state change is a JSON or form POST carrying the session's CSRF token; every decision is a
WebAuthn assertion over the canonical decision message, recorded through the same engine calls the
CLI uses, so the same refusals apply and are recorded the same way.
"""

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from musharaka.flows.engine import decisions, people, records
from musharaka.flows.planfiles.reading import PlanError
from musharaka.flows.render.terms import term
from musharaka.flows.views.risks import risk_view
from musharaka.flows.web import audit, board, campaign, views
from musharaka.flows.web.auth import COOKIE, LANG_COOKIE, WebSession, same
from musharaka.flows.web.kit import Kit, Refusal, Runs, Workspace, clock
from musharaka.flows.web.words import LANGS, Lang, moment, number, pick, refusal
from musharaka.stages.approvers import Approver, ApproversRegistry, Delegation, Passkey
from musharaka.stages.gates import NoAuthority, authority
from musharaka.stages.i18n import words
from musharaka.state.db import session_scope, transaction
from musharaka.state.events import ACCESS_CHAIN, SignInRecorded, StageCompleted, as_utc, payload_of
from musharaka.state.log import append
from musharaka.state.passkeys import Assertion, algorithm_of, b64url, challenge_of, from_b64url
from musharaka.state.projection import gate_policy
from musharaka.state.proof import delegation_message
from musharaka.state.settings import get_settings
from musharaka.state.signing import PASSKEY, SignedDecision
from musharaka.state.tables import Event

LOG = logging.getLogger("musharaka.service")
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,  # first: what most authenticators make
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'; "
    "form-action 'none'; base-uri 'none'"
)
MAX_BODY = 64 * 1024
MAX_UPLOAD = 256 * 1024 * 1024  # a form posting a file (a plan, an export) to a route ending in /upload
PENDING_LIFE = timedelta(minutes=5)  # a decision shown to the passkey must be signed within this
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # an enrolment link's secret never leaves in a Referer
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def create_app(runs: Runs | None = None, *, now: Callable[[], datetime] = clock) -> FastAPI:
    """The web application; `runs` starts the next stage after a gate passes (None: the sweep will)."""
    app = FastAPI(title="Musharaka", docs_url=None, redoc_url=None, openapi_url=None)
    ws = Workspace(runs, now)
    app.state.workspace = ws

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        limit = MAX_UPLOAD if request.url.path.endswith("/upload") else MAX_BODY
        if request.method == "POST" and not 0 <= int(request.headers.get("content-length") or -1) <= limit:
            response: Response = message(request, "too-large", 413)  # a form or a decision is a few KB
        else:
            response = await call_next(request)
        return secured(response)

    def secured(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def message(request: Request, code: str, status: int) -> Response:
        """A refusal or failure in the person's language: JSON for the page's script, a page otherwise."""
        lang = language(request)
        text = refusal(code, lang)
        if request.method == "POST" and request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"message": text, "code": code}, status_code=status)
        return page(request, current(request), "message.html.j2", text, status=status)

    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> Response:
        if error.code == "signed-out" and request.method == "GET":
            return RedirectResponse("/signin", status_code=303)
        return message(request, error.code, error.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        # no route, a method a route does not take, a form with too many fields: never Starlette's English
        return message(request, "not_found" if error.status_code == 404 else "error", error.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return message(request, "error", 400)

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        # the person gets a message in their language; the operator gets the traceback in the service's
        # log (the server logs what a handler of Exception answered). Answered outside the middleware.
        return secured(message(request, "plans-broken" if isinstance(error, PlanError) else "error", 500))

    def language(request: Request) -> Lang:
        chosen = request.cookies.get(LANG_COOKIE)
        return "en" if chosen == "en" else "ar"

    def current(request: Request) -> WebSession | None:
        return ws.sessions.get(request.cookies.get(COOKIE), ws.now())

    def set_cookie(response: Response, token: str) -> None:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=ws.secure, path="/", max_age=None)

    def page(
        request: Request,
        session: WebSession | None,
        template: str,
        title: str,
        *,
        status: int = 200,
        anonymous: bool = False,
        **context: Any,
    ) -> HTMLResponse:
        """A page; with `anonymous`, a session is made for a visitor without one (the sign-in and enrolment
        forms need its CSRF token), and only then: a stream of other requests keeps nothing."""
        lang = language(request)
        token = None
        if session is None and anonymous:
            token, session = ws.sessions.new(ws.now())
        person = session.person if session else None
        names = context.pop("names", None)
        if names is None and person is not None:
            try:
                names = names_of(records.load_plan_set().registry)
            except PlanError:  # the page may be the one that says the plan files are wrong
                names = {}
        names = names or {}
        duties = context.pop("duties", None)
        if duties is None and session is not None and person is not None:
            try:
                duties = kit.duties(session)
            except (PlanError, records.Refused):  # the page may be the one that says so
                duties = ()
        body = (
            ws.jinja[lang]
            .get_template(template)
            .render(
                lang=lang,
                title=title,
                csrf=session.csrf if session else "",
                person=person,
                duties=duties,
                person_name=pick(names.get(person, (person or "", person or "")), lang),
                here=request.url.path,
                n=lambda value: number(value, lang),
                when=lambda value, zone: moment(value, zone, lang),
                stage_name=lambda stage: term(f"stage_{stage}", lang),
                capacity=lambda value: term(f"capacity_{value}", lang),
                name=lambda who: pick(names.get(who, (who, who)), lang),
                **context,
            )
        )
        response = HTMLResponse(body, status_code=status)
        if token:
            set_cookie(response, token)
        return response

    def checked(request: Request, given: str | None, *, signed_in: bool = True) -> WebSession:
        """The request's session, its CSRF token checked; a signed-in one where `signed_in`."""
        session = current(request)
        if session is None:
            raise Refusal("signed-out" if signed_in else "csrf", 401 if signed_in else 403)
        if not same(session.csrf, given):
            raise Refusal("csrf", 403)
        if signed_in and session.person is None:
            raise Refusal("signed-out", 401)
        return session

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # not JSON, or nested deeper than any answer of ours
            raise Refusal("error") from None
        if not isinstance(body, dict):
            raise Refusal("error")
        return body

    def names_of(registry: ApproversRegistry | None) -> dict[str, tuple[str, str]]:
        return {a.id: (a.name.ar, a.name.en) for a in registry.approvers} if registry else {}

    kit = Kit(
        ws=ws,
        page=page,
        message=message,
        language=language,
        signed_in=lambda request: signed_in(request),
        checked=lambda request, given: checked(request, given),
        json_body=json_body,
        names_of=names_of,
    )
    for module in (board, campaign, audit):
        module.routes(app, kit)

    # --- static files and language -------------------------------------------------------------

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in ("web.js", "web.css"):
            raise Refusal("not_found", 404)
        media = "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(ws.static / name, media_type=media)

    @app.get("/lang/{lang}")
    def switch(lang: str, next: str = "/") -> Response:
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        if lang in LANGS:
            response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict", secure=ws.secure, path="/")
        return response

    # --- sign-in --------------------------------------------------------------------------------

    @app.get("/signin")
    def signin_page(request: Request) -> Response:
        return page(
            request, current(request), "signin.html.j2", words(language(request)).gettext("Sign in"), anonymous=True
        )

    def passkeys_of(person: Approver | None, at: datetime) -> list[Passkey]:
        return [p for p in person.passkeys if p.in_force(at)] if person else []

    @app.post("/signin/options")
    async def signin_options(request: Request) -> Response:
        session = checked(request, request.headers.get("x-csrf-token"), signed_in=False)
        body = await json_body(request)
        person_id = str(body.get("person", "")).strip()[:80]
        if ws.limit.blocked([f"person:{person_id}", f"from:{client(request)}"], ws.now()):
            raise Refusal("rate-limited", 429)
        plans = records.load_plan_set()
        with session_scope() as db:
            person = ws.registry(plans, db).get(person_id)
        options = generate_authentication_options(
            rp_id=ws.rp_id,
            allow_credentials=[descriptor(p) for p in passkeys_of(person, ws.now())],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        session.challenge = options.challenge
        return Response(f'{{"get": {options_to_json(options)}}}', media_type="application/json")

    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def record_sign_in(person: str, outcome: str, reason: str = "") -> None:
        def write(db: Session) -> None:
            payload = SignInRecorded(person=person, outcome=outcome, reason=reason)
            append(ACCESS_CHAIN, payload, actor="service", at=ws.now(), session=db)

        transaction(write)

    @app.post("/signin")
    async def signin(request: Request) -> Response:
        session = checked(request, request.headers.get("x-csrf-token"), signed_in=False)
        body = await json_body(request)
        person_id = str(body.get("person", "")).strip()[:80]
        keys = [f"person:{person_id}", f"from:{client(request)}"]
        now = ws.now()
        if ws.limit.blocked(keys, now):
            if ws.limit.first_report(keys, now):
                record_sign_in(person_id, "rate-limited")
            raise Refusal("rate-limited", 429)
        challenge, session.challenge = session.challenge, None
        plans = records.load_plan_set()
        with session_scope() as db:
            person = ws.registry(plans, db).get(person_id)
        credential = body.get("credential")
        if not isinstance(credential, dict):
            credential = {}
        raw_id = credential.get("id")
        passkey = next((p for p in passkeys_of(person, now) if p.credential_id == raw_id), None)
        reason = ""
        if challenge is None:
            reason = "no sign-in under way in this session"
        elif passkey is None:
            reason = "not a passkey of this person in force"
        else:
            try:
                verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=passkey.rp_id,
                    expected_origin=passkey.origin,
                    credential_public_key=from_b64url(passkey.public_key, "public key"),
                    credential_current_sign_count=0,
                    require_user_verification=True,
                )
            except Exception as error:  # a malformed credential is a failed attempt like any other
                reason = f"the assertion does not verify: {error.__class__.__name__}: {error}"[:300]
        if reason:
            # an attempt at one of the person's own passkeys counts against them; anything else only
            # against the address it came from, so made-up attempts cannot lock an approver out
            ws.limit.failed(keys if passkey is not None else keys[1:], now)
            record_sign_in(person_id, "refused", reason)
            raise Refusal("sign-in-failed", 401)
        ws.limit.succeeded(keys)
        record_sign_in(person_id, "signed-in")
        ws.sessions.end(request.cookies.get(COOKIE))  # a new session at sign-in: none is carried across
        token, _ = ws.sessions.new(now, person=person_id)
        response = JSONResponse({"message": words(language(request)).gettext("Sign in"), "redirect": "/"})
        set_cookie(response, token)
        return response

    @app.post("/signout")
    async def signout(request: Request) -> Response:
        form = await request.form()
        checked(request, str(form.get("csrf", "")), signed_in=False)
        ws.sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- enrolment -----------------------------------------------------------------------------

    def invitation(secret: str) -> Approver:
        """The person an enrolment link is for, or the refusal of a link unknown, used or expired."""
        plans = records.load_plan_set()
        with session_scope() as db:
            try:
                invited = people.invitation(secret, now=ws.now(), session=db)
            except records.Refused as error:
                raise Refusal(error.code, 404 if error.code == "unknown-invitation" else 410) from None
            registry = ws.registry(plans, db)
        return people.person_of(registry, invited.person)

    @app.get("/enrol/{secret}")
    def enrol_page(request: Request, secret: str) -> Response:
        person = invitation(secret)
        lang = language(request)
        return page(
            request,
            current(request),
            "enrol.html.j2",
            words(lang).gettext("Create a passkey"),
            anonymous=True,
            secret=secret,
            invited_name=pick((person.name.ar, person.name.en), lang),
        )

    @app.post("/enrol/{secret}/options")
    def enrol_options(request: Request, secret: str) -> Response:
        session = checked(request, request.headers.get("x-csrf-token"), signed_in=False)
        person = invitation(secret)
        options = generate_registration_options(
            rp_id=ws.rp_id,
            rp_name="Musharaka",
            user_id=person.id.encode(),
            user_name=person.id,
            user_display_name=person.name.ar,  # what the device shows when it asks for the passkey
            exclude_credentials=[descriptor(p) for p in person.passkeys],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            supported_pub_key_algs=ALGORITHMS,
        )
        session.challenge = options.challenge
        return Response(f'{{"create": {options_to_json(options)}}}', media_type="application/json")

    @app.post("/enrol/{secret}")
    async def enrol(request: Request, secret: str) -> Response:
        session = checked(request, request.headers.get("x-csrf-token"), signed_in=False)
        body = await json_body(request)
        person = invitation(secret)
        challenge, session.challenge = session.challenge, None
        if challenge is None:
            raise Refusal("enrol-failed")
        try:
            verified = verify_registration_response(
                credential=body.get("credential"),  # type: ignore[arg-type]
                expected_challenge=challenge,
                expected_rp_id=ws.rp_id,
                expected_origin=ws.origin,
                require_user_verification=True,
                supported_pub_key_algs=ALGORITHMS,
            )
            algorithm = algorithm_of(verified.credential_public_key)
        except Exception:  # whatever the browser sent, it is not an enrolment this service asked for
            raise Refusal("enrol-failed") from None
        now = ws.now()
        made = Passkey(
            id="pending",  # the registry's next id is given where it is recorded
            credential_id=b64url(verified.credential_id),
            public_key=b64url(verified.credential_public_key),
            algorithm=algorithm,
            rp_id=ws.rp_id,
            origin=ws.origin,
            valid_from=now.replace(microsecond=0),
        )
        plans = records.load_plan_set()
        registry = plans.registry
        assert registry is not None  # `invitation` found the person in it
        try:
            passkey = transaction(lambda db: people.enrol(secret, registry, made, now=now, session=db))
        except records.Refused as error:
            raise Refusal(error.code, 409) from None
        return JSONResponse(
            {
                "message": words(language(request)).gettext(
                    "Your passkey is created and recorded in the people registry. You can sign in now."
                ),
                "entry": registry_entry(person.id, passkey),
            }
        )

    # --- the inbox, a gate, a decision ---------------------------------------------------------

    def signed_in(request: Request) -> WebSession:
        session = current(request)
        if session is None or session.person is None:
            raise Refusal("signed-out", 401)
        return session

    @app.get("/live")
    def live(request: Request) -> Response:
        """The log's newest event number: a page polls it and reloads its live parts when it moves."""
        signed_in(request)
        with session_scope() as db:
            newest = db.exec(select(func.max(Event.id))).one()
        return JSONResponse({"version": int(newest or 0)})

    @app.get("/")
    def inbox(request: Request) -> Response:
        session = signed_in(request)
        duties = kit.duties(session)
        if "approver" not in duties:  # each person lands on the page of their duty
            return RedirectResponse("/audit" if "auditor" in duties and "planner" not in duties else "/programme", 303)
        now = ws.now()
        plans = records.load_plan_set()
        with session_scope() as db:
            registry = ws.registry(plans, db)
            rows = views.inbox(session.person or "", registry, now=now, session=db)
        me = registry.get(session.person or "")
        return page(
            request,
            session,
            "inbox.html.j2",
            words(language(request)).gettext("Gates awaiting your decision"),
            rows=rows,
            names=names_of(registry),
            can_delegate=bool(me and "approver" in me.duties),
            others=[a for a in registry.approvers if a.id != session.person and "approver" in a.duties],
        )

    @app.get("/gates/{campaign_id}/{stage}")
    def gate(request: Request, campaign_id: str, stage: str) -> Response:
        session = signed_in(request)
        now = ws.now()
        plans = records.load_plan_set()
        with session_scope() as db:
            registry = ws.registry(plans, db)
            try:
                found = views.gate_page(campaign_id, stage, session=db)
            except records.Refused:
                found = None
            risks = risk_view(plans, campaign_id, now, session=db) if found else None
        if found is None:
            raise Refusal("no-open-gate", 404)
        due = as_utc(found.gate.due_at)
        may = found.gate.status == "open"
        if may:
            try:
                power = authority(registry, session.person or "", gate_policy(found.gate), now=now, due=due)
                may = found.gate.submitter not in (session.person, power.principal)
            except NoAuthority:
                may = False
        lang = language(request)
        title = f"{found.campaign.title_ar if lang == 'ar' else found.campaign.title_en}"
        return page(
            request,
            session,
            "gate.html.j2",
            title,
            page=found,
            documents=sorted(found.documents, key=lambda d: d.lang != "ar"),
            due=due,
            overdue=due <= now,
            may_decide=may,
            names=names_of(registry),
            risks=risks,
        )

    def signature_request(session: WebSession, message: bytes) -> Response:
        """WebAuthn request options for the signed-in person's passkeys, the challenge the message's digest.

        Every passkey of theirs is offered, in force or not: the engine refuses a revoked one, and records it.
        """
        plans = records.load_plan_set()
        with session_scope() as db:
            person = ws.registry(plans, db).get(session.person or "")
        keys = list(person.passkeys) if person else []
        if not keys:
            raise Refusal("unknown-key")
        options = generate_authentication_options(
            rp_id=ws.rp_id,
            challenge=challenge_of(message),
            allow_credentials=[descriptor(p) for p in keys],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return Response(f'{{"get": {options_to_json(options)}}}', media_type="application/json")

    @app.post("/delegations/options")
    async def delegation_options(request: Request) -> Response:
        """The delegation to sign, held for this session: whole days in the ministry's zone, from one day to
        another; the passkey's challenge is the digest of the delegation itself."""
        session = kit.requires(checked(request, request.headers.get("x-csrf-token")), "approver")
        body = await json_body(request)
        zone = get_settings().timezone
        try:
            lent = Delegation(
                delegator=session.person or "",
                delegate=str(body.get("delegate", "")),
                starts=local_day_start(date.fromisoformat(str(body.get("starts", ""))), zone),
                ends=local_day_start(date.fromisoformat(str(body.get("ends", ""))) + timedelta(days=1), zone),
                reason=str(body.get("reason", "")).strip(),
            )
        except (ValueError, OverflowError):  # a date that is not one, or a reason left empty
            raise Refusal("bad-delegation") from None
        session.pending, session.pending_at = {"delegation": lent.model_dump(mode="json")}, ws.now()
        return signature_request(session, delegation_message(lent))

    @app.post("/delegations/sign")
    async def delegation_sign(request: Request) -> Response:
        """Record the delegation with its passkey assertion; the engine checks the rules and the signature."""
        session = kit.requires(checked(request, request.headers.get("x-csrf-token")), "approver")
        body = await json_body(request)
        pending, session.pending = session.pending, None
        now = ws.now()
        if pending is None or "delegation" not in pending or session.pending_at is None:
            raise Refusal("no-pending", 409)
        if now - session.pending_at > PENDING_LIFE:
            raise Refusal("no-pending", 409)
        lent = Delegation.model_validate(pending["delegation"])
        assertion = assertion_of(body.get("credential"))
        plans = records.load_plan_set()
        try:
            transaction(lambda db: people.delegate(ws.registry(plans, db), lent, assertion, now=now, session=db))
        except records.Refused as error:
            raise Refusal(error.code if error.code == "bad-signature" else "bad-delegation", 409) from None
        return JSONResponse(
            {
                "message": words(language(request)).gettext("The signed delegation is recorded."),
                "redirect": "/",
                "pause": 1500,
            }
        )

    @app.get("/documents/{path:path}")
    def document(request: Request, path: str) -> Response:
        signed_in(request)
        with session_scope() as db:
            recorded = recorded_document(path, db)
        if recorded is None:
            raise Refusal("not_found", 404)
        target = get_settings().output_dir / path
        if not target.is_file():
            raise Refusal("not_found", 404)
        media = "text/html; charset=utf-8" if target.suffix == ".html" else "application/octet-stream"
        # a document carries its own styles and never a script
        return FileResponse(target, media_type=media, headers={"Content-Security-Policy": DOCUMENT_POLICY})

    @app.post("/gates/{campaign_id}/{stage}/decision")
    async def prepare(request: Request, campaign_id: str, stage: str) -> Response:
        """The decision to sign, held for this session; the passkey's challenge is its message's digest."""
        session = kit.requires(checked(request, request.headers.get("x-csrf-token")), "approver")
        body = await json_body(request)
        decision = str(body.get("decision", ""))
        text = str(body.get("text", "")).strip()
        if decision not in ("approve", "reject", "extend"):
            raise Refusal("error")
        if decision in ("reject", "extend") and not text:
            raise Refusal("no-reason")
        closes = None
        if decision == "extend":
            try:
                closes = date.fromisoformat(str(body.get("closes", "")))
            except ValueError:
                raise Refusal("bad-extension") from None
        attempt = body.get("attempt")
        if isinstance(attempt, str) and attempt.isdecimal() and len(attempt) < 7:
            attempt = int(attempt)
        if not isinstance(attempt, int) or isinstance(attempt, bool):
            raise Refusal("error")
        now = ws.now()
        unsigned = SignedDecision(
            campaign=campaign_id,
            stage=stage,
            attempt=attempt,
            decision=decision,
            text=text,
            closes=closes,
            outputs_digest=str(body.get("digest", "")),
            signed_at=now.replace(microsecond=0),
            approver=session.person or "",
            public_key=PASSKEY,
        )
        session.pending, session.pending_at = unsigned.model_dump(mode="json"), now
        return signature_request(session, unsigned.message())

    @app.post("/gates/{campaign_id}/{stage}/sign")
    async def sign(request: Request, campaign_id: str, stage: str) -> Response:
        """Record the decision with its passkey assertion; the engine verifies it and applies every rule."""
        session = kit.requires(checked(request, request.headers.get("x-csrf-token")), "approver")
        body = await json_body(request)
        pending, session.pending = session.pending, None  # one-shot: a signature answers one request
        now = ws.now()
        if (
            pending is None
            or session.pending_at is None
            or now - session.pending_at > PENDING_LIFE
            or (pending["campaign"], pending["stage"]) != (campaign_id, stage)
        ):
            raise Refusal("no-pending", 409)
        assertion = assertion_of(body.get("credential"))
        signed = SignedDecision.model_validate(pending | {"assertion": assertion.model_dump()})
        plans = records.load_plan_set()
        try:
            decided = decisions.submit(campaign_id, signed, plans=plans, now=now)
        except records.Refused as refused:
            raise Refusal(refused.code, 409) from None
        passed = decided is not None and decided.status == "approved"
        lang = language(request)
        _ = words(lang).gettext
        message = {
            "approve": _("Your signed approval is recorded."),
            "reject": _("Your signed rejection is recorded with its reason."),
            "extend": _("The extension of the window is recorded."),
        }[signed.decision]
        if passed:
            message += " " + words(lang).gettext("The gate passed.")
        run = None
        if passed or signed.decision == "extend":
            try:
                if ws.runs is not None:  # at once: the run goes on in the service
                    run = ws.runs.submit([campaign_id], None)[campaign_id]
            except Exception:  # the decision stands, committed; the sweep will run the next stage
                LOG.exception("%s: the next stage's run could not be started", campaign_id)
            message += " " + (
                _("The next stage is running.") if run is not None else _("The next stage runs at the next sweep.")
            )
        return JSONResponse({"message": message, "redirect": "/", "pause": 1500, "run": run})

    return app


def assertion_of(credential: Any) -> Assertion:
    """The three signed parts of what `navigator.credentials.get` answered, as the event keeps them."""
    try:
        response = credential["response"]
        return Assertion(
            credential_id=str(credential["id"]),
            authenticator_data=str(response["authenticatorData"]),
            client_data_json=str(response["clientDataJSON"]),
            signature=str(response["signature"]),
        )
    except (KeyError, TypeError):
        raise Refusal("bad-signature") from None


def descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(id=from_b64url(passkey.credential_id, "credential"))


def recorded_document(path: str, session: Session) -> StageCompleted | None:
    """The stage outputs that recorded a document at `path`: only those are ever served."""
    events = session.exec(
        select(Event).where(Event.type == "stage.completed", col(Event.payload).contains(path)).order_by(col(Event.seq))
    )
    for event in events:
        payload = payload_of(event)
        if isinstance(payload, StageCompleted) and any(d.path == path for d in payload.documents):
            return payload
    return None


def registry_entry(person: str, passkey: Passkey) -> str:
    """The passkey as the registry file lists it, under its person, for the administrator to keep."""
    fields = passkey.model_dump(mode="json", exclude_none=True)
    lines = [f"# under approvers: - id: {person}", "passkeys:", f"  - id: {fields.pop('id')}"]
    lines += [f"    {key}: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def local_day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)
