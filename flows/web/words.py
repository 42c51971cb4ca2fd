"""The workspace's refusals by code, and numbers and times formatted for each language.

Arabic comes first: it is the default language of every page. The words are English messages, translated by
the catalogues (`stages.i18n`); refusals the engine gives (by code) are worded here for people, and the
engine's own detail stays in the log.
"""

from datetime import datetime

from musharaka.flows.render import locale
from musharaka.flows.render.locale import Lang as Lang
from musharaka.stages.i18n import N_, words
from musharaka.state.settings import get_settings

LANGS: tuple[Lang, ...] = ("ar", "en")

# Every refusal the engine gives a decision, worded for the person who tried it.
REFUSALS: dict[str, str] = {
    "self-approval": N_("You submitted this stage and may not sign off its own gate (separation of duties)."),
    "role-not-allowed": N_("You hold no role that may decide this gate."),
    "stale-digest": N_("The stage's outputs changed since you reviewed them: review them again, then sign."),
    "replayed": N_("This signature is for another attempt or gate and cannot be used here."),
    "already-decided": N_("This gate was already decided."),
    "no-open-gate": N_("There is no open gate for this stage now."),
    "already-approved": N_("Your seat in the quorum is taken: you have already approved this gate."),
    "key-not-in-force": N_("This passkey is revoked or not in force now."),
    "unknown-key": N_("This passkey is not registered to you."),
    "unknown-approver": N_("You are not in the approvers registry."),
    "bad-signature": N_("The signature does not match the decision shown, so it was not accepted."),
    "bad-time": N_("The signing time is wrong."),
    "no-reason": N_("Give a reason: a rejection or an extension needs one."),
    "bad-extension": N_("The new closing date must be after the current one, and only at conduct."),
    "no-pending": N_("This decision expired before it was signed. Try again."),
    "csrf": N_("This page has expired. Reload it and try again."),
    "signed-out": N_("Your session has ended. Sign in again."),
    "sign-in-failed": N_("Signing in with this passkey did not succeed."),
    "rate-limited": N_("Too many attempts did not succeed. Wait fifteen minutes and try again."),
    "unknown-invitation": N_("This enrolment link is not valid."),
    "invitation-used": N_("This link was used already: ask for a new one."),
    "expired": N_("This enrolment link has expired: ask for a new one."),
    "enrol-failed": N_("The passkey could not be created. Nothing was recorded."),
    "bad-delegation": N_(
        "A delegation needs another approver, an end after its start, from today for at most ninety days, and a reason."
    ),
    "not-closed": N_("The campaign is not closed yet: its open data is published once its evaluation is approved."),
    "not_found": N_("There is no such page."),
    "error": N_("The request could not be completed."),
    "too-large": N_("The request is larger than the service takes."),
    "plans-broken": N_(
        "The plan files have problems that stop this. Tell the planning department: musharaka validate lists them."
    ),
    "credential-enrolled": N_("This passkey is enrolled already."),
    "registry-unsigned": N_(
        "The people registry was changed and its administrators have not yet signed the new version, so nothing "
        "was recorded. Tell the registry's administrators."
    ),
    "registry-not-pinned": N_(
        "The people registry's first version is not pinned, so no decision can be checked against it. Tell the "
        "registry's administrators."
    ),
    "registry-chain-broken": N_(
        "The people registry in the event log does not hold from its pinned first version, so nothing was "
        "recorded. Tell the auditors."
    ),
    "unproven-identity": N_("Your key did not prove who you are, so nothing was recorded."),
    "unknown-batch": N_("There is no batch of contributions with this number."),
    "already-withdrawn": N_("This batch of contributions was withdrawn already."),
    "not-a-planner": N_("Only a person with the planner duty may withdraw contributions."),
    "under-review": N_(
        "The conduct gate is reviewing these contributions: have it rejected or the window extended first."
    ),
    "conduct-approved": N_(
        "The conduct gate approved these contributions and the analysis used them: they can no longer be withdrawn."
    ),
    "not-your-duty": N_("Your duties in the people registry do not include this, so nothing was done."),
    "refused": N_("The request was refused."),
    "unknown-campaign": N_("No started campaign has this id."),
    "bad-instant": N_("Give a date and a time, such as 2025-06-20 10:00."),
    "no-campaign": N_("There is no campaign with this id: no plan declares it and it was never started."),
    "plan-started": N_(
        "This campaign has started, so its plan on record cannot be replaced by an upload. Nothing was saved."
    ),
    "already-started": N_("This campaign has already been started. Nothing was recorded."),
    "no-decision": N_("This campaign has no approved decision yet: follow-up starts once its analyse gate approves."),
    "decision-final": N_("This decision is already implemented or dropped: no update can follow it."),
    "already-sent": N_("This message was already recorded as sent. Nothing was recorded."),
    "unknown-lesson": N_("The plan cites a lesson that is not in the lessons register. Nothing was recorded."),
    "bad-period": N_("Give a half-year such as 2025-H1 (January to June) or 2025-H2 (July to December)."),
    "bad-month": N_("Give a month such as 2025-07."),
    "no-programme": N_("There is no programme file in the plans folder: the indicators and their targets are there."),
}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """A person's name, which the registry gives in both languages."""
    return pair[0] if lang == "ar" else pair[1]


def refusal(code: str, lang: Lang) -> str:
    return words(lang).gettext(REFUSALS.get(code, REFUSALS["refused"]))


def number(value: float, lang: Lang) -> str:
    return locale.number(value, lang, digits=get_settings().digits)


def moment(value: datetime, zone: str, lang: Lang) -> str:
    """A time in the campaign's zone, written for the language, with the zone named (as in the documents)."""
    return locale.moment(value, zone, lang, digits=get_settings().digits)
