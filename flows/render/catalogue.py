"""The message catalogues kept in step with the code: what `make messages` runs and the suite checks.

`extract()` reads every message the code and the templates use (Babel's Python extractor, Jinja2's for the
templates); `update()` writes the template `musharaka.pot` and brings each language's catalogue up to date (new
messages empty, those no code uses any more dropped); `problems(lang)` lists what a language's catalogue lacks:
a message without a translation, a translation still marked fuzzy, a placeholder the English does not have,
or an entry no code uses.

    python -m musharaka.flows.render.catalogue          # update the catalogues, then list what is missing
"""

import ast
import sys
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from musharaka.stages.i18n import DOMAIN, catalogue_file, catalogues
from musharaka.state.settings import package_folder

LANGUAGES = ("ar",)  # besides English, the source
FOLDERS = ("flows", "stages", "state", "templates")
METHODS = [("**.py", "python"), ("**.j2", "jinja2.ext:babel_extract")]
KEYWORDS = {**DEFAULT_KEYWORDS, "NC_": ((1, "c"), 2)}  # a marked message with a context (stages.i18n.NC_)
HEADER: dict[str, Any] = {
    "project": "Musharaka",
    "version": "",
    "msgid_bugs_address": "",
    "copyright_holder": "Musharaka",
    "last_translator": "Musharaka",
    "language_team": "Musharaka",
    "header_comment": "# The engine's words, kept in step with the code by `make messages`.\n"
    "# The suite fails on a message without a translation.",
}


def extract() -> Catalog:
    """Every message in the package's code and templates, each with the places that use it."""
    root = package_folder("musharaka.flows").parent
    template = Catalog(domain=DOMAIN, charset="utf-8", fuzzy=False, **HEADER)
    for folder in FOLDERS:
        found = extract_from_dir(root / folder, METHODS, keywords=KEYWORDS, comment_tags=("Translators:",))
        for file, line, message, comments, context in found:
            template.add(message, locations=[(f"{folder}/{file}", line)], auto_comments=comments, context=context)
    return template


def update() -> None:
    """Write `musharaka.pot` and merge it into each language's catalogue."""
    template = extract()
    with (catalogues() / f"{DOMAIN}.pot").open("wb") as out:
        write_po(out, template, sort_output=True, include_lineno=False)
    for lang in LANGUAGES:
        path = catalogue_file(lang)
        if path.exists():
            with path.open("rb") as po:
                catalogue = read_po(po, locale=lang, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=lang, domain=DOMAIN, charset="utf-8", **HEADER)
        catalogue.fuzzy = False
        catalogue.update(template, no_fuzzy_matching=True)
        for name, value in HEADER.items():
            setattr(catalogue, name, value)
        with path.open("wb") as out:
            write_po(out, catalogue, sort_output=True, include_lineno=False, ignore_obsolete=True)


def problems(lang: str) -> list[str]:
    """What the catalogue of `lang` lacks for the messages the code uses, one line each, naming a place."""
    with catalogue_file(lang).open("rb") as po:
        catalogue = read_po(po, locale=lang, domain=DOMAIN)
    used = extract()
    found: list[str] = []
    for message in used:
        if not message.id:
            continue
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
        entry = catalogue.get(message.id, message.context)
        if entry is None or not _translated(entry):
            found.append(f"{where}: no {lang} translation for {_shown(message)}")
        elif entry.fuzzy:
            found.append(f"{where}: the {lang} translation of {_shown(message)} is marked fuzzy")
        else:
            found += [f"{where}: {_shown(message)}: {error}" for error in entry.check(catalogue)]
    found += _unseen(used)
    found += [
        f"{catalogue_file(lang).name}: {_shown(entry)} is translated but no code uses it"
        for entry in catalogue
        if entry.id and used.get(entry.id, entry.context) is None
    ]
    return found


def _unseen(used: Catalog) -> list[str]:
    """Messages in the Python code that the extractor does not see: Babel reads no call inside an f-string, so
    such a message would be shown untranslated with no test failing. Python's own parser sees them all."""
    root = package_folder("musharaka.flows").parent
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                message = _literal_message(node)
                if message and used.get(*message) is None:
                    where = f"{folder}/{path.relative_to(root / folder)}:{getattr(node, 'lineno', 0)}"
                    found.append(f"{where}: {message[0]!r} is not extracted: give it outside an f-string")
    return found


def _literal_message(node: ast.AST) -> tuple[str, str | None] | None:
    """(message, context) of a call such as `_("...")`, `t.gettext("...")` or `NC_("context", "...")`."""
    if not isinstance(node, ast.Call):
        return None
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    texts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
    if name not in ("_", "gettext", "ngettext", "pgettext", "N_", "NC_") or not texts:
        return None
    if name in ("pgettext", "NC_"):
        return (texts[1], texts[0]) if len(texts) > 1 and texts[0] and texts[1] else None
    return (texts[0], None) if texts[0] else None


def _translated(entry: Message) -> bool:
    strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
    return all(strings) and bool(strings)


def _shown(message: Message) -> str:
    text = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return f"{text!r}" + (f" (context {message.context!r})" if message.context else "")


if __name__ == "__main__":
    update()
    missing = [line for lang in LANGUAGES for line in problems(lang)]
    print("\n".join(missing) or "the catalogues are complete")
    sys.exit(1 if missing else 0)
