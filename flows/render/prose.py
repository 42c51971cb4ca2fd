"""Prose in the reader's language; where it was written in the other language only, that text, marked.

The mark is the `untranslated` label, in the reader's language; the text keeps its own language and
direction (`lang`, `dir`), so it reads, and is read aloud, as written.
"""

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from musharaka.stages.i18n import words
from musharaka.stages.plans import LANGUAGES, Bilingual, Prose

DIRECTION = {"ar": "rtl", "en": "ltr"}


@pass_context
def say(context: Context, value: Prose | Bilingual | str | dict[str, Any] | None) -> Markup:
    """Jinja filter: `{{ o.detailed_objective|say }}` in the document's `lang`, marked "(not translated)" in it."""
    lang = context["lang"]
    return in_language(value, lang, words(lang).gettext("(not translated)"))


def isolated(value: object) -> Markup:
    """Jinja filter `bdi`: a value set apart from the text around it, its direction its own (first strong
    letter), so neither reorders the other. Markup stays markup; anything else is escaped. Not for the whole
    content of an element with `dir="auto"`, whose direction would then ignore it."""
    return Markup("<bdi>{}</bdi>").format(value)


def in_language(value: Prose | Bilingual | str | dict[str, Any] | None, lang: str, mark: str) -> Markup:
    """The text in `lang`, or the other language's text in its own `lang`/`dir` (which sets it apart, so its
    full stop stays at its own end), followed by `mark`."""
    if value is None:
        return Markup("")
    prose = value if isinstance(value, Prose | Bilingual) else Prose.model_validate(value)  # a string: by script
    text: str | None = getattr(prose, lang)
    if text is not None:
        return escape(text)
    other = next(code for code in LANGUAGES if getattr(prose, code) is not None)
    return Markup('<span lang="{}" dir="{}">{}</span> <small class="untranslated">{}</small>').format(
        other, DIRECTION[other], getattr(prose, other), mark
    )
