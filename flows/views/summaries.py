"""One line a person can read for each event of the log, in the reader's language (`musharaka history`, the
audit report).

Each line is one message of the catalogue; what it names is written for the reader: in English ids, stages
and counts as recorded, in Arabic the stage's name, the numbers in the locale's digits and every id, file name
and digest isolated so that it reads left to right inside the sentence. Times are in the campaign's zone, with
the zone named. `summary` gives what a person wrote with the event (a reason, a comment, a note) apart, as
written, for a page to show in the language it was written in; `summarize` gives the line with it. The engine's
own English detail (a refusal's message, the inputs a stage misses) is left out of the Arabic line: it is in
the log.
"""

from datetime import date, datetime
from typing import Any, NamedTuple

from musharaka.flows.render import locale
from musharaka.flows.render.terms import term
from musharaka.stages.i18n import words
from musharaka.state.events import payload_of
from musharaka.state.seal import engine_fingerprint
from musharaka.state.settings import get_settings
from musharaka.state.tables import Event

# Each piece of an Arabic line that is not Arabic (an id, a digest, a file name, free text) stands apart
# (U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE), so punctuation stays where it belongs.
_ISOLATED = "\u2068{}\u2069"


class Summary(NamedTuple):
    line: str  # what happened, in the language
    said: str  # what a person wrote with it, as written; empty when nothing


def summary(event: Event, lang: str = "en", *, zone: str | None = None) -> Summary:
    """The event in `lang`, and apart what a person wrote with it; times in `zone` (the programme's when none
    is given), with the zone named."""
    p = payload_of(event).model_dump(mode="json")
    return Summary(_line(event.type, p, lang, zone or get_settings().timezone), _said(event.type, p))


def summarize(event: Event, lang: str = "en", *, zone: str | None = None) -> str:
    """The event in one line, in `lang`, what a person wrote with it included (`musharaka history`)."""
    line, said = summary(event, lang, zone=zone)
    if said and lang == "ar":  # as written, in whatever language, set apart from the Arabic around it
        return f"{line}: {_ISOLATED.format(said)}"
    return f"{line}: {said}" if said else line


def _said(kind: str, p: dict[str, Any]) -> str:
    """What a person wrote with the event: a decision's comment or reason, an extension's, a withdrawal's or a
    delegation's reason, an implementation update's note."""
    match kind:
        case "gate.decided":
            return str(p["text"])
        case "window.extended" | "contributions.withdrawn":
            return str(p["reason"])
        case "decision.updated":
            return str(p["note"])
        case "delegation.recorded":
            return str(p["delegation"]["reason"])
    return ""


def _line(kind: str, p: dict[str, Any], lang: str, zone: str) -> str:
    digits = get_settings().digits
    arabic = lang == "ar"
    t = words(lang)

    def it(value: object) -> str:  # an id, a digest, a file name
        return _ISOLATED.format(value) if arabic else str(value)

    def n(value: float) -> str:
        return locale.number(value, lang, digits=digits) if arabic else str(value)

    def when(value: str) -> str:
        return locale.moment(datetime.fromisoformat(value), zone, lang, digits=digits)

    def stage(key: str) -> str:
        return term(f"stage_{key}", lang) if arabic else key

    match kind:
        case "campaign.started":
            return t.gettext("campaign started from plan %(digest)s") % {"digest": it(p["plan_digest"][:12])}
        case "plan.recorded":
            return t.gettext("plan file changed; now %(digest)s") % {"digest": it(p["plan_digest"][:12])}
        case "submission.recorded":
            return t.gettext("%(stage)s: submitted %(file)s (%(digest)s)") % {
                "stage": stage(p["stage"]),
                "file": it(p["file_name"]),
                "digest": it(p["digest"][:12]),
            }
        case "contributions.ingested":
            counts = {
                "file": it(p["file_name"]),
                "read": n(p["rows_read"]),
                "stored": n(p["rows_stored"]),
                "duplicates": n(p["duplicates"]),
                "again": n(p.get("rows_resubmitted", 0)),
            }
            if p.get("rows_resubmitted"):  # rows an earlier file had quarantined, stored now corrected
                return (
                    t.gettext(
                        "contributions from %(file)s: %(read)s read, %(stored)s stored (%(again)s of them quarantined "
                        "before), %(duplicates)s duplicates"
                    )
                    % counts
                )
            return (
                t.gettext("contributions from %(file)s: %(read)s read, %(stored)s stored, %(duplicates)s duplicates")
                % counts
            )
        case "contributions.withdrawn":
            return t.gettext(
                "contributions of event %(batch)s (%(file)s) withdrawn by %(person)s: %(stored)s stored and "
                "%(quarantined)s quarantined rows no longer count"
            ) % {
                "batch": n(p["batch"]),
                "file": it(p["file_name"]),
                "person": it(p["person"]),
                "stored": n(p["rows_withdrawn"]),
                "quarantined": n(p["quarantined_withdrawn"]),
            }
        case "stage.started":
            return t.gettext("%(stage)s attempt %(attempt)s started (submitter %(submitter)s)") % {
                "stage": stage(p["stage"]),
                "attempt": n(p["attempt"]),
                "submitter": it(p["submitter"]),
            }
        case "stage.waiting":
            return t.gettext("%(stage)s waits: %(reason)s (until %(until)s)") % {
                "stage": stage(p["stage"]),
                "reason": p["reason"],
                "until": when(p["until"]),
            }
        case "stage.failed":
            count = len(p["missing"])
            missing = t.ngettext("%(n)s input", "%(n)s inputs", count) % {"n": n(count)}
            return t.gettext("%(stage)s cannot finish; missing: %(missing)s") % {
                "stage": stage(p["stage"]),
                "missing": missing if arabic else "; ".join(p["missing"]),
            }
        case "stage.completed":
            return t.gettext("%(stage)s attempt %(attempt)s completed; outputs %(digest)s") % {
                "stage": stage(p["stage"]),
                "attempt": n(p["attempt"]),
                "digest": it(p["outputs_digest"][:12]),
            }
        case "gate.opened":
            return t.gettext("%(stage)s gate opened, due %(due)s") % {
                "stage": stage(p["stage"]),
                "due": when(p["due_at"]),
            }
        case "gate.decided":
            return _decided(t.gettext, p, stage(p["stage"]), n(p["attempt"]), it)
        case "window.extended":
            closes = locale.day(date.fromisoformat(p["closes"]), lang, digits=digits)
            return t.gettext("window extended to %(closes)s by %(approver)s") % {
                "closes": closes,
                "approver": it(p["approver"]),
            }
        case "gate.refused":
            asked = {
                "approve": t.gettext("REFUSED approval of %(stage)s by %(approver)s (%(code)s): %(message)s"),
                "reject": t.gettext("REFUSED rejection of %(stage)s by %(approver)s (%(code)s): %(message)s"),
                "extend": t.gettext("REFUSED extension at %(stage)s by %(approver)s (%(code)s): %(message)s"),
            }
            return asked.get(p["decision"], asked["approve"]) % {
                "stage": stage(p["stage"]),
                "approver": it(p["approver"]),
                "code": it(p["code"]),
                "message": p["message"],
            }
        case "decision.updated":
            status = term(f"followup_{p['status']}", lang) if arabic else p["status"]
            done = locale.percent(p["percent"] / 100, lang, digits=digits) if arabic else f"{p['percent']}%"
            line = t.gettext("decision %(status)s %(percent)s") % {"status": status, "percent": done}
            return line + (f" ({it(p['evidence'])})" if p["evidence"] else "")
        case "message.sent":
            line = t.gettext("message %(message)s sent (%(stage)s) on %(channels)s") % {
                "message": it(p["message"]),
                "stage": stage(p["stage"]),
                "channels": "، ".join(term(f"channel_{c}", lang) for c in p["channels"])
                if arabic
                else ", ".join(p["channels"]),
            }
            return line + (f" ({it(p['evidence'])})" if p["evidence"] else "")
        case "registry.recorded":
            return t.gettext("approvers registry %(digest)s in force") % {"digest": it(p["registry_digest"][:12])}
        case "person.invited":
            return t.gettext("%(person)s invited to create a passkey, the link valid until %(until)s") % {
                "person": it(p["person"]),
                "until": when(p["expires_at"]),
            }
        case "passkey.enrolled":
            return t.gettext("%(person)s created a passkey") % {"person": it(p["person"])}
        case "delegation.recorded":
            d = p["delegation"]
            return t.gettext("%(delegator)s delegated to %(delegate)s from %(starts)s until %(ends)s") % {
                "delegator": it(d["delegator"]),
                "delegate": it(d["delegate"]),
                "starts": when(d["starts"]),
                "ends": when(d["ends"]),
            }
        case "sign-in.recorded":
            outcome = {
                "signed-in": t.gettext("%(person)s signed in"),
                "refused": t.gettext("sign-in by %(person)s refused"),
                "rate-limited": t.gettext("sign-ins by %(person)s paused after too many failures"),
            }[p["outcome"]] % {"person": it(p["person"])}
            return outcome + (f" ({it(p['reason'])})" if p["reason"] else "")
        case "log.reanchored":
            return t.gettext(
                "log re-anchored: its %(count)s earlier events (last %(digest)s) checked in the legacy form; "
                "every event from here on signed by the engine"
            ) % {"count": n(p["legacy_events"]), "digest": it(p["legacy_head"][:12])}
        case "engine.key-rotated":
            return t.gettext("engine signing key %(previous)s replaced by %(new)s") % {
                "previous": it(engine_fingerprint(p["previous"])[:16]),
                "new": it(engine_fingerprint(p["public_key"])[:16]),
            }
    return it(kind)


def _decided(gettext: Any, p: dict[str, Any], stage: str, attempt: str, it: Any) -> str:
    """A gate decision: approved or rejected, by the role's holder, a delegate or by escalation."""
    values = {"stage": stage, "attempt": attempt, "approver": it(p["approver"]), "principal": it(p["principal"])}
    approve = p["decision"] == "approve"
    match p["capacity"]:
        case "delegate" if approve:
            line = gettext("%(stage)s attempt %(attempt)s approved by %(approver)s for %(principal)s")
        case "delegate":
            line = gettext("%(stage)s attempt %(attempt)s rejected by %(approver)s for %(principal)s")
        case "escalation" if approve:
            line = gettext("%(stage)s attempt %(attempt)s approved by %(approver)s by escalation")
        case "escalation":
            line = gettext("%(stage)s attempt %(attempt)s rejected by %(approver)s by escalation")
        case _ if approve:
            line = gettext("%(stage)s attempt %(attempt)s approved by %(approver)s")
        case _:
            line = gettext("%(stage)s attempt %(attempt)s rejected by %(approver)s")
    return str(line % values)
