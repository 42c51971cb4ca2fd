"""The engine's own words in each language, from gettext catalogues managed with Babel.

English is the source language: every message is written in English where it is used (`_("Campaign")` in a
template, `words("ar").gettext("Campaign")` in code) and `templates/locale/musharaka.pot` lists them all.
Each other language has one catalogue, `templates/locale/<lang>/LC_MESSAGES/musharaka.po`; a test fails when a
message has no translation there (`make messages` brings the catalogues up to date with the code).

Placeholders are named, `%(name)s`, so that a translation may put them in its own order; plural forms follow
the catalogue's `Plural-Forms` (Arabic has six: zero, one, two, few, many, other).
"""

import gettext
from functools import lru_cache
from importlib.resources import files
from io import BytesIO
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Lang = Literal["ar", "en"]
DOMAIN = "musharaka"
SOURCE: Lang = "en"


def catalogues() -> Path:
    """The folder of the catalogues, shipped with the package's templates."""
    return Path(str(files("musharaka.templates"))) / "locale"


def catalogue_file(lang: str) -> Path:
    return catalogues() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache
def words(lang: str) -> gettext.NullTranslations:
    """The translations of `lang`; the source language's are the messages themselves.

    Read from the `.po` file and compiled in memory (a few milliseconds, once per process), so the catalogue
    in the repository is the only copy and can never disagree with a compiled one. Fuzzy entries are left out.
    """
    if lang == SOURCE:
        return gettext.NullTranslations()
    with catalogue_file(lang).open("rb") as po:
        catalogue = read_po(po, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; it is translated where it is shown."""
    return message


# how gettext joins a message's context to it in a compiled catalogue
CONTEXT = "\x04"


def NC_(context: str, message: str) -> str:
    """Marks a message with a context (one English word that reads two ways in another language)."""
    return f"{context}{CONTEXT}{message}"
