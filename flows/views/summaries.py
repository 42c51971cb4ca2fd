"""One line a person can read for each event of the log, in English (`musharaka history`) or Arabic (the audit
report in Arabic).

`summarize` gives the line `musharaka history` has always printed, what people wrote included, times as
recorded (ISO 8601) unless a zone is given. `summary` gives what a person wrote with the event (a reason, a
comment, a note) apart, as written, for a page to show in the language it was written in. The Arabic lines name
ids, file names and digests as they are (isolated, so they read left to right inside the sentence); the engine's
own English detail (a refusal's message, the inputs a stage misses) is left to the log.
"""

from datetime import date, datetime
from typing import Any, NamedTuple

from musharaka.flows.render import locale
from musharaka.flows.render.locale import labels
from musharaka.stages import followup
from musharaka.state.events import payload_of
from musharaka.state.settings import get_settings
from musharaka.state.tables import Event

# Each piece of an Arabic line that is not Arabic (an id, a digest, a file name, free text) stands apart
# (U+2068 FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE), so punctuation stays where it belongs.
_ISOLATED = "\u2068{}\u2069"

# what a refused decision asked for, in Arabic
_ASKED = {
    "approve": "بالموافقة على مرحلة",
    "reject": "برفض مرحلة",
    "extend": "بتمديد فترة المشاركة في مرحلة",
}
_SIGN_IN = {
    "signed-in": "سجّل {person} الدخول",
    "refused": "لم يُقبل تسجيل دخول {person}",
    "rate-limited": "أُوقفت محاولات دخول {person} مؤقتًا بعد محاولات كثيرة لم تنجح",
}
_SIGN_IN_EN = {
    "signed-in": "{person} signed in",
    "refused": "sign-in by {person} refused",
    "rate-limited": "sign-ins by {person} paused after too many failures",
}


class Summary(NamedTuple):
    line: str  # what happened, in the language
    said: str  # what a person wrote with it, as written; empty when nothing


def summary(event: Event, lang: str = "en", *, zone: str | None = None) -> Summary:
    """The event in `lang`, and apart what a person wrote with it; with `zone`, its times are written for
    people in that zone (Arabic: always, the programme's zone when none is given)."""
    p = payload_of(event).model_dump(mode="json")
    if lang == "ar":
        line = _arabic(event.type, p, zone or get_settings().timezone)
    else:
        line = _english(event.type, p, zone, quoting=False)
    return Summary(line, _said(event.type, p))


def summarize(event: Event, lang: str = "en", *, zone: str | None = None) -> str:
    """The event in one line, in `lang`, what a person wrote with it included (`musharaka history`)."""
    if lang == "ar":
        line, said = summary(event, lang, zone=zone)
        return f"{line}: {said}" if said else line
    return _english(event.type, payload_of(event).model_dump(mode="json"), zone, quoting=True)


def _english(kind: str, p: dict[str, Any], zone: str | None, *, quoting: bool) -> str:
    def when(value: str) -> str:
        return locale.moment(datetime.fromisoformat(value), zone, "en") if zone else value

    def said(text: str) -> str:  # what a person wrote, when the line carries it
        return f": {text}" if quoting and text else ""

    match kind:
        case "campaign.started":
            return f"campaign started from plan {p['plan_digest'][:12]}"
        case "plan.recorded":
            return f"plan file changed; now {p['plan_digest'][:12]}"
        case "submission.recorded":
            return f"{p['stage']}: submitted {p['file_name']} ({p['digest'][:12]})"
        case "contributions.ingested":
            return (
                f"contributions from {p['file_name']}: {p['rows_read']} read, {p['rows_stored']} stored, "
                f"{p['duplicates']} duplicates"
            )
        case "stage.started":
            return f"{p['stage']} attempt {p['attempt']} started (submitter {p['submitter']})"
        case "stage.waiting":
            return f"{p['stage']} waits: {p['reason']} (until {when(p['until'])})"
        case "stage.failed":
            return f"{p['stage']} cannot finish; missing: " + "; ".join(p["missing"])
        case "stage.completed":
            return f"{p['stage']} attempt {p['attempt']} completed; outputs {p['outputs_digest'][:12]}"
        case "gate.opened":
            return f"{p['stage']} gate opened, due {when(p['due_at'])}"
        case "gate.decided":
            verb = "approved" if p["decision"] == "approve" else "rejected"
            behalf = f" for {p['principal']}" if p["capacity"] == "delegate" else ""
            escalated = " by escalation" if p["capacity"] == "escalation" else ""
            return f"{p['stage']} attempt {p['attempt']} {verb} by {p['approver']}{behalf}{escalated}" + said(p["text"])
        case "window.extended":
            return f"window extended to {p['closes']} by {p['approver']}" + said(p["reason"])
        case "gate.refused":
            return f"REFUSED {p['decision']} of {p['stage']} by {p['approver']} ({p['code']}): {p['message']}"
        case "decision.updated":
            link = f" ({p['evidence']})" if p["evidence"] else ""
            return f"decision {p['status']} {p['percent']}%" + said(p["note"]) + link
        case "registry.recorded":
            return f"approvers registry {p['registry_digest'][:12]} in force"
        case "person.invited":
            return f"{p['person']} invited to create a passkey, the link valid until {when(p['expires_at'])}"
        case "passkey.enrolled":
            return f"{p['person']} created a passkey"
        case "delegation.recorded":
            d = p["delegation"]
            return (
                f"{d['delegator']} delegated to {d['delegate']} from {when(d['starts'])} until {when(d['ends'])}"
                + said(d["reason"])
            )
        case "sign-in.recorded":
            return _SIGN_IN_EN[p["outcome"]].format(person=p["person"]) + (f" ({p['reason']})" if p["reason"] else "")
    return kind


def _said(kind: str, p: dict[str, Any]) -> str:
    """What a person wrote with the event: a decision's comment or reason, an extension's or a delegation's
    reason, an implementation update's note."""
    match kind:
        case "gate.decided":
            return str(p["text"])
        case "window.extended":
            return str(p["reason"])
        case "decision.updated":
            return str(p["note"])
        case "delegation.recorded":
            return str(p["delegation"]["reason"])
    return ""


def _arabic(kind: str, p: dict[str, Any], zone: str) -> str:
    digits = get_settings().digits
    words = labels(get_settings().templates_dir)

    def it(value: object) -> str:
        return _ISOLATED.format(value)

    def n(value: float) -> str:
        return locale.number(value, "ar", digits=digits)

    def when(value: str) -> str:
        return locale.moment(datetime.fromisoformat(value), zone, "ar", digits=digits)

    def stage(key: str) -> str:
        return words.get(f"stage_{key}", {}).get("ar") or it(key)

    def counted(value: int, word: str) -> str:
        return locale.plural(value, {f: words[f"{word}_{f}"]["ar"] for f in locale.PLURAL_FORMS}, "ar", digits=digits)

    match kind:
        case "campaign.started":
            return f"بدأت الحملة من الخطة {it(p['plan_digest'][:12])}"
        case "plan.recorded":
            return f"تغيّر ملف الخطة، وبصمتها الآن {it(p['plan_digest'][:12])}"
        case "submission.recorded":
            return f"{stage(p['stage'])}: قُدِّم الملف {it(p['file_name'])} (البصمة {it(p['digest'][:12])})"
        case "contributions.ingested":
            return (
                f"مساهمات من الملف {it(p['file_name'])}: الصفوف المقروءة {n(p['rows_read'])}، "
                f"والمخزّنة {n(p['rows_stored'])}، والمكررة {n(p['duplicates'])}"
            )
        case "stage.started":
            return f"بدأت المحاولة {n(p['attempt'])} لمرحلة {stage(p['stage'])} (المقدِّم {it(p['submitter'])})"
        case "stage.waiting":
            return f"لا يمكن إنهاء مرحلة {stage(p['stage'])} قبل {when(p['until'])}"
        case "stage.failed":
            return f"تعذّر إتمام مرحلة {stage(p['stage'])}، إذ ينقصها {counted(len(p['missing']), 'inputs')}"
        case "stage.completed":
            return (
                f"اكتملت المحاولة {n(p['attempt'])} لمرحلة {stage(p['stage'])}، "
                f"وبصمة مخرجاتها {it(p['outputs_digest'][:12])}"
            )
        case "gate.opened":
            return f"فُتحت بوابة مرحلة {stage(p['stage'])}، وموعد القرار {when(p['due_at'])}"
        case "gate.decided":
            approver, what = it(p["approver"]), f"مرحلة {stage(p['stage'])} في المحاولة {n(p['attempt'])}"
            line = f"وافق {approver} على {what}" if p["decision"] == "approve" else f"رفض {approver} {what}"
            if p["capacity"] == "delegate":
                line += f"، نيابةً عن {it(p['principal'])}"
            if p["capacity"] == "escalation":
                line += "، بالتصعيد"
            return line
        case "window.extended":
            closes = locale.day(date.fromisoformat(p["closes"]), "ar", digits=digits)
            return f"مدّد {it(p['approver'])} فترة المشاركة حتى {closes}"
        case "gate.refused":
            asked = _ASKED.get(p["decision"], "في مرحلة")
            return f"لم يُقبل قرار {it(p['approver'])} {asked} {stage(p['stage'])} (الرمز {it(p['code'])})"
        case "decision.updated":
            status = followup.WORDS.get(p["status"], {}).get("ar") or it(p["status"])
            done = locale.percent(p["percent"] / 100, "ar", digits=digits)
            link = f" ({it(p['evidence'])})" if p["evidence"] else ""
            return f"تنفيذ القرار: {status}، بنسبة {done}{link}"
        case "registry.recorded":
            return f"صار سجل المعتمدين {it(p['registry_digest'][:12])} ساريًا"
        case "person.invited":
            return f"دُعي {it(p['person'])} إلى إنشاء مفتاح مرور، والرابط صالح حتى {when(p['expires_at'])}"
        case "passkey.enrolled":
            return f"أنشأ {it(p['person'])} مفتاح مرور"
        case "delegation.recorded":
            d = p["delegation"]
            return (
                f"فوّض {it(d['delegator'])} صلاحياته إلى {it(d['delegate'])} "
                f"من {when(d['starts'])} حتى {when(d['ends'])}"
            )
        case "sign-in.recorded":
            line = _SIGN_IN[p["outcome"]].format(person=it(p["person"]))
            return line + (f" (الرمز {it(p['reason'])})" if p["reason"] else "")
    return it(kind)
