"""Loading a set of plan files: each file read and validated, then checked against the others
(owners and roles against the registry, programmes against the campaigns), with the result cached."""

import atexit
import hashlib
import hmac
import importlib.util
import json
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from musharaka.flows.planfiles import reading
from musharaka.flows.planfiles.reading import Problem, did_you_mean, locate_node, read_yaml, validate_tree
from musharaka.stages import approvers, calendars, checks, formulas, gates, kpis, plans, programme
from musharaka.stages.approvers import ApproversRegistry, registry_problems
from musharaka.stages.checks import campaign_problems, programme_problems, untranslated, vocabulary_problems
from musharaka.stages.gates import unmet
from musharaka.stages.plans import LANGUAGE_NAMES, LANGUAGES, STAGES, CampaignPlan, Vocabulary
from musharaka.stages.programme import Programme, quarters_spanned
from musharaka.state.files import KeyFileError, owner_only_folder, secret_file
from musharaka.state.settings import get_settings

REGISTRY_NAME = "approvers.yaml"
_ID_LINE = re.compile(r"^id:\s*([a-z0-9][a-z0-9._-]*)\s*$", re.MULTILINE)


@dataclass
class PlanSet:
    """Every valid plan found, by kind."""

    campaigns: dict[str, CampaignPlan] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)  # ids in campaign files, valid or not
    sources: dict[str, Path] = field(default_factory=dict)
    programmes: list[Programme] = field(default_factory=list)
    registry: ApproversRegistry | None = None
    # prose given in one language only, Arabic ones first: a reader of the other sees it untranslated
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class _Parsed:
    path: Path
    tree: Any


def plan_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, or found under the directories named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            found.append(path)
    return found


def kind_of(path: Path) -> type[BaseModel]:
    """Which model a file holds, by its name: approvers.yaml, programme-*.yaml, or a campaign."""
    if path.name == REGISTRY_NAME:
        return ApproversRegistry
    if path.name.startswith("programme"):
        return Programme
    return CampaignPlan


def load_plans(paths: Iterable[Path], registry_fallback: Path | None = None) -> tuple[PlanSet, list[Problem]]:
    """Validate every plan file under `paths`, each on its own and against each other."""
    files = plan_files(paths)
    has_registry = any(f.name == REGISTRY_NAME for f in files)
    if registry_fallback and registry_fallback.exists() and not has_registry:
        files.append(registry_fallback)
    key = _files_key(files)
    loaded = _LOADED.get(key) if key else None
    if loaded is None:
        loaded = _read_cache(key) if key else None
    if loaded is None:
        loaded = _load(files)
        if key and not loaded[1]:  # plans with problems stop the command: it leaves the cache as it was
            _write_cache(key, *loaded)
    if key:
        _LOADED.clear()
        _LOADED[key] = loaded
    plans, problems = loaded
    # callers may add to what they get (a campaign, a problem); the memo keeps its own containers
    return replace(
        plans,
        campaigns=dict(plans.campaigns),
        declared=set(plans.declared),
        sources=dict(plans.sources),
        programmes=list(plans.programmes),
        warnings=list(plans.warnings),
    ), list(problems)


# The last load of this process, by key: a stage run loads the plans several times, and the disk
# cache below would be read and validated again each time.
_LOADED: dict[str, tuple[PlanSet, list[Problem]]] = {}


# Parsing YAML with positions (ruamel) costs ~0.2 s for the shipped plans, most of a read-only
# command's time; the result of the last load is kept as JSON beside the state, keyed by a digest of
# every file's path and bytes and of the code that validates them, so any edit or upgrade misses it.
# The cache holds what the plans say, the approvers' public keys among it: its first line is an
# HMAC-SHA256 of the rest under a secret only the workspace's owner can read (var/cache/plans.key), so a
# cache edited by anyone else fails the check and the plan files are read again.
def _cache_file() -> Path:
    return get_settings().home / "var" / "cache" / "plans.json"


def _cache_secret() -> bytes | None:
    """The secret the cache is authenticated with; None (no cache) when it cannot be trusted or made."""
    try:
        return secret_file(get_settings().home / "var" / "cache" / "plans.key", "the plan cache key")
    except (KeyFileError, OSError):  # others may read it, or a read-only home: read the plan files
        return None


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).hexdigest().encode()


# the code that decides what is valid: a new version of any of it misses the cache
_VALIDATING_CODE = [
    Path(str(m.__file__))
    for m in (sys.modules[__name__], reading, plans, checks, gates, programme, approvers, calendars, formulas, kpis)
]
# and the `holidays` package, which says which countries a calendar may name: its version file, found unimported
_HOLIDAYS = importlib.util.find_spec("holidays")
_VALIDATING_CODE += [Path(str(_HOLIDAYS.origin)).with_name("version.py")] if _HOLIDAYS else []


# the bounded YAML reader too, by its file: importing it would load ruamel, which a cached read never needs
_VALIDATING_CODE.append(Path(str(reading.__file__)).with_name("bounded.py"))


def _files_key(files: list[Path]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    folders: dict[str, str] = {}  # a folder of a thousand plans is resolved once, not once per file
    try:
        for path in [*_VALIDATING_CODE, *files]:
            resolved, found = _resolved(path, folders)
            # the path as given too: problems and sources name files the way the caller did
            digest.update(f"{path}\0{resolved}\0".encode() + _bytes_digest(resolved, found) + b"\0")
    except OSError:
        return ""  # an unreadable file: no cache; the load reports it
    return digest.hexdigest()


def _resolved(path: Path, folders: dict[str, str]) -> tuple[str, os.stat_result]:
    """`path.resolve()` and the file's stat, its folder's resolution shared: resolving each of a thousand files
    walked every folder of its path again, most of the freshness check's time."""
    found = os.lstat(path)
    if not stat.S_ISREG(found.st_mode):  # a link (or no plain file): resolved whole
        resolved = str(path.resolve())
        return resolved, os.stat(resolved)
    folder, name = os.path.split(path)
    if folder not in folders:
        folders[folder] = str(Path(folder or ".").resolve())
    return os.path.join(folders[folder], name), found


# Each file's digest as last read, by its resolved path, with what `os.stat` said of it before that read: its
# device, inode, size and times of modification and change. A file stat says the same of is not read again. A
# change time cannot be set back (unlike a modification time), so any write after the read moves it on, unless
# the write falls within the filesystem's timestamp tick of the previous change: a file that changed less than
# `_SETTLED_NS` before it was read is never taken on its stat (git calls such files "racily clean"), only on
# its bytes, read again each time until it has settled.
_SEEN: dict[str, tuple[tuple[int, ...], bytes]] = {}
_SETTLED_NS = 2_000_000_000  # coarser than any timestamp tick (FAT's is 2 s) and any clock's drift here


def _bytes_digest(path: str, before: os.stat_result) -> bytes:
    """A digest of the file's bytes, `before` what stat said of it just now."""
    seen = (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns)
    known = _SEEN.get(path)
    if known is not None and known[0] == seen:
        return known[1]
    reading_at = time.time_ns()
    with open(path, "rb") as file:
        found = hashlib.blake2b(file.read(), digest_size=16).digest()
    if max(before.st_mtime_ns, before.st_ctime_ns) < reading_at - _SETTLED_NS:
        if len(_SEEN) > 100_000:  # a long test process reads many workspaces' files
            _SEEN.clear()
        _SEEN[path] = (seen, found)
    else:
        _SEEN.pop(path, None)
    return found


def _read_cache(key: str) -> tuple[PlanSet, list[Problem]] | None:
    secret = _cache_secret()
    if secret is None:
        return None
    try:
        mac, _, body = _cache_file().read_bytes().partition(b"\n")
        if not hmac.compare_digest(mac, _mac(secret, body)):  # not written by this workspace's owner
            return None
        data = json.loads(body)
        if data.get("key") != key:
            return None
        registry = data["registry"]
        plans = PlanSet(
            campaigns={i: CampaignPlan.model_validate(c) for i, c in data["campaigns"].items()},
            declared=set(data["declared"]),
            sources={i: Path(p) for i, p in data["sources"].items()},
            programmes=[Programme.model_validate(p) for p in data["programmes"]],
            registry=None if registry is None else ApproversRegistry.model_validate(registry),
            warnings=[_problem(p) for p in data["warnings"]],
        )
        problems = [_problem(p) for p in data["problems"]]
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: load the files
        return None
    return plans, problems


def _problem(cached: dict[str, Any]) -> Problem:
    return Problem(**{**cached, "file": Path(cached["file"])})


def _write_cache(key: str, plans: PlanSet, problems: list[Problem]) -> None:
    data = {
        "key": key,
        "campaigns": {i: c.model_dump(mode="json") for i, c in plans.campaigns.items()},
        "declared": sorted(plans.declared),
        "sources": {i: str(p) for i, p in plans.sources.items()},
        "programmes": [p.model_dump(mode="json") for p in plans.programmes],
        "registry": None if plans.registry is None else plans.registry.model_dump(mode="json"),
        "problems": [{**vars(p), "file": str(p.file)} for p in problems],
        "warnings": [{**vars(p), "file": str(p.file)} for p in plans.warnings],
    }
    target = _cache_file()
    secret = _cache_secret()
    if secret is None:
        return
    body = json.dumps(data, ensure_ascii=False).encode()
    try:
        owner_only_folder(target.parent)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".plans-")
        with os.fdopen(handle, "wb") as out:
            out.write(_mac(secret, body) + b"\n" + body)
        os.replace(temporary, target)  # whole or not at all, whoever writes last
    except OSError:
        pass  # a read-only home: every command parses the files, as without a cache


def _load(files: list[Path]) -> tuple[PlanSet, list[Problem]]:
    plans = PlanSet()
    problems: list[Problem] = []
    parsed: dict[Path, _Parsed] = {}
    for path in files:
        model = kind_of(path)
        checked = _checked_file(path, model)
        tree = checked.tree
        problems += checked.problems
        if tree is None:
            plans.declared.update(checked.declared)
            continue
        parsed[path] = _Parsed(path, tree)
        plans.declared.update(checked.declared)
        plans.warnings += checked.warnings
        instance = checked.instance
        if isinstance(instance, CampaignPlan):
            found = list(checked.own)
            problems += found
            if instance.id in plans.campaigns:
                problems.append(
                    locate_node(
                        path,
                        tree,
                        ("id",),
                        f"expected a campaign id used once, found {instance.id!r} also in {plans.sources[instance.id]}",
                    )
                )
            elif not found:
                plans.campaigns[instance.id] = instance
                plans.sources[instance.id] = path
        elif isinstance(instance, Programme):
            problems += checked.own
            plans.programmes.append(instance)
        elif isinstance(instance, ApproversRegistry):
            found = list(checked.own)
            problems += found
            if not found:
                plans.registry = instance
    problems += _cross_checks(plans, parsed)
    _take_programme_calendars(plans)
    _take_programme_vocabularies(plans)
    for campaign_id, plan in plans.campaigns.items():
        source = parsed[plans.sources[campaign_id]]
        problems += [locate_node(source.path, source.tree, loc, msg) for loc, msg in vocabulary_problems(plan)]
    plans.warnings.sort(key=lambda w: LANGUAGES.index(_LACKING[w.message]))  # stable: by file and line within
    return plans, problems


_LACKING = {f"not translated into {name}": lang for lang, name in LANGUAGE_NAMES.items()}


@dataclass(frozen=True)
class _Checked:
    """One file read and validated on its own: what `load_plans` needs before the cross-checks."""

    tree: Any
    problems: tuple[Problem, ...]  # reading and validating
    instance: BaseModel | None
    own: tuple[Problem, ...]  # the model's own rules (campaign_problems, registry_problems)
    declared: tuple[str, ...]  # campaign ids the file declares, valid or not
    warnings: tuple[Problem, ...] = ()  # prose in one language only


# Every stage run loads the plans; parsing and validating a file costs tens of milliseconds, so each
# file's result is kept, keyed by its path and a digest of its bytes (a modification time alone misses
# an edit of the same size within the filesystem's timestamp tick). Models are frozen: sharing is safe.
_CHECKED: dict[tuple[Path, type[BaseModel]], tuple[str, _Checked]] = {}


@atexit.register
def _forget() -> None:
    """Drop both memos at exit, while the interpreter is whole. Their models hold datetimes whose tzinfo is
    pydantic-core's TzInfo; one freed later, in the interpreter's last sweep, reads CPython's datetime
    C API after it was freed: the test process crashed there (pydantic/pydantic#12867)."""
    _CHECKED.clear()
    _LOADED.clear()


def _checked_file(path: Path, model: type[BaseModel]) -> _Checked:
    try:
        key = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        key = ""  # unreadable: read_yaml reports it, and nothing is kept
    hit = _CHECKED.get((path, model))
    if key and hit is not None and hit[0] == key:
        return hit[1]
    checked = _check_file(path, model)
    if key:
        _CHECKED[(path, model)] = (key, checked)
    return checked


def _check_file(path: Path, model: type[BaseModel]) -> _Checked:
    tree, found = read_yaml(path, model)
    if tree is None:
        declared: tuple[str, ...] = ()
        if model is CampaignPlan and path.exists():
            # an unparseable plan still declares its id, so the programme does not report it twice
            declared = tuple(_ID_LINE.findall(path.read_bytes().decode("utf-8", "replace")))
        return _Checked(None, tuple(found), None, (), declared)
    declared = (tree["id"],) if model is CampaignPlan and isinstance(tree.get("id"), str) else ()
    instance, invalid = validate_tree(path, tree, model)
    own: list[Problem] = []
    if isinstance(instance, CampaignPlan):
        own = [locate_node(path, tree, loc, msg) for loc, msg in campaign_problems(instance)]
    elif isinstance(instance, ApproversRegistry):
        own = [locate_node(path, tree, loc, msg) for loc, msg in registry_problems(instance)]
    elif isinstance(instance, Programme):
        own = [locate_node(path, tree, loc, msg) for loc, msg in programme_problems(instance)]
    warnings = tuple(
        locate_node(path, tree, loc, f"not translated into {LANGUAGE_NAMES[lang]}")
        for loc, lang in (untranslated(instance) if instance is not None else ())
    )
    return _Checked(tree, tuple(found + invalid), instance, tuple(own), declared, warnings)


def _take_programme_calendars(plans: PlanSet) -> None:
    """A campaign whose plan names no calendar takes that of the programme listing it (the first, if several):
    the plan the engine records for the campaign then holds the calendar its gates' due dates are counted by."""
    for listing in plans.programmes:
        for entry in listing.campaigns if listing.calendar else ():
            plan = plans.campaigns.get(entry.campaign)
            if plan is not None and plan.calendar is None:
                plans.campaigns[entry.campaign] = plan.model_copy(update={"calendar": listing.calendar})


def _quarter_problems(
    source: "_Parsed", i: int, plan: CampaignPlan, quarter: str, listed_in: dict[str, tuple[int, list[str]]]
) -> list[Problem]:
    """A programme entry's quarter: one the campaign's window spans (a window may run into the next quarter,
    and the programme then lists the campaign in each), and not listed twice."""
    _, quarters = listed_in.setdefault(plan.id, (i, []))
    spanned = quarters_spanned(plan.window.opens, plan.window.closes)
    if quarter in quarters:
        message = f"expected {plan.id} listed once in {quarter}, found it listed again"
    elif quarter not in spanned:
        message = f"expected a quarter {plan.id}'s window spans ({', '.join(spanned)}), found {quarter}"
    else:
        quarters.append(quarter)
        return []
    return [locate_node(source.path, source.tree, ("campaigns", i, "quarter"), message)]


def _take_programme_vocabularies(plans: PlanSet) -> None:
    """A campaign may name the channels, tools and sectors of the programmes listing it: the plan the engine
    records holds their names, so its documents show them however the programme changes later."""
    for listing in plans.programmes:
        vocabulary = listing.vocabulary
        if not (vocabulary.channels or vocabulary.tools or vocabulary.sectors):
            continue
        for entry in listing.campaigns:
            plan = plans.campaigns.get(entry.campaign)
            if plan is not None:
                merged = (plan.vocabulary or Vocabulary()).merged(vocabulary)
                plans.campaigns[entry.campaign] = plan.model_copy(update={"vocabulary": merged})


def _cross_checks(plans: PlanSet, parsed: dict[Path, _Parsed]) -> list[Problem]:
    """Roles and owners against the registry; programmes against the campaigns."""
    problems: list[Problem] = []
    registry = plans.registry
    if registry is not None:
        roles = {role for approver in registry.approvers for role in approver.roles}
        people = {approver.id for approver in registry.approvers}
        holders = {a.id: a.roles for a in registry.approvers if "approver" in a.duties}  # who can fill a seat
        for campaign_id, plan in plans.campaigns.items():
            source = parsed[plans.sources[campaign_id]]
            if plan.owner not in people:
                problems.append(
                    locate_node(
                        source.path,
                        source.tree,
                        ("owner",),
                        f"expected a person in {REGISTRY_NAME}{did_you_mean(plan.owner, people)}, found {plan.owner!r}",
                    )
                )
            for i, risk in enumerate(plan.risks):
                if risk.owner not in people:
                    found = f"{did_you_mean(risk.owner, people)}, found {risk.owner!r}"
                    problems.append(
                        locate_node(
                            source.path,
                            source.tree,
                            ("risks", i, "owner"),
                            f"expected a person in {REGISTRY_NAME}{found}",
                        )
                    )
            for stage in ("default", *STAGES):
                policy = getattr(plan.gates, stage)
                named = [
                    (kind, i, role)
                    for kind in ("roles", "all_of", "escalation")
                    for i, role in enumerate(getattr(policy, kind) if policy else ())
                ]
                reason = unmet(policy, holders) if policy and all(r in roles for _, _, r in named) else ""
                if reason:
                    problems.append(
                        locate_node(
                            source.path,
                            source.tree,
                            ("gates", stage),
                            f"expected a policy the people of {REGISTRY_NAME} can meet, found that {reason}",
                        )
                    )
                for kind, i, role in named:
                    if role not in roles:
                        problems.append(
                            locate_node(
                                source.path,
                                source.tree,
                                ("gates", stage, kind, i),
                                f"expected a role somebody in {REGISTRY_NAME} holds"
                                f"{did_you_mean(role, roles)}, found {role!r} which nobody holds",
                            )
                        )
    for source in parsed.values():
        if kind_of(source.path) is not Programme:
            continue
        entries = source.tree.get("campaigns") if isinstance(source.tree, dict) else None
        listed_in: dict[str, tuple[int, list[str]]] = {}  # campaign: its first entry, the quarters it is listed in
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            campaign_id = str(entry.get("campaign"))
            listed = plans.campaigns.get(campaign_id)
            if listed is None and campaign_id in plans.declared:
                continue  # its own plan file's problems are reported already
            if listed is None:
                problems.append(
                    locate_node(
                        source.path,
                        source.tree,
                        ("campaigns", i, "campaign"),
                        f"expected a campaign with a valid plan file"
                        f"{did_you_mean(str(campaign_id), set(plans.campaigns))}, "
                        f"found {campaign_id!r} which no valid plan declares",
                    )
                )
            else:
                problems += _quarter_problems(source, i, listed, str(entry.get("quarter")), listed_in)
        for campaign_id, (first, quarters) in listed_in.items():
            spanned = quarters_spanned(
                plans.campaigns[campaign_id].window.opens, plans.campaigns[campaign_id].window.closes
            )
            left_out = [q for q in spanned if q not in quarters]
            if left_out:
                problems.append(
                    locate_node(
                        source.path,
                        source.tree,
                        ("campaigns", first, "quarter"),
                        f"expected {campaign_id} listed in every quarter its window spans ({', '.join(spanned)}), "
                        f"found it without {', '.join(left_out)}",
                    )
                )
    return problems
