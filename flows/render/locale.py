"""Numbers, counts, amounts and times as a reader of each language reads them, from Babel's locale data.

One way to show a time to people, everywhere (documents, reports, the audit report, the web workspace): the
date long and the time short in the reader's language, in the campaign's zone (the programme's for views
across campaigns), with the zone named: "21 يونيو 2025، 9:00 ص (توقيت عُمان)", "21 June 2025, 09:00 (Oman
Time)". JSON keeps ISO 8601 with offsets. Numbers use Western digits unless the `digits` setting is "arab".
"""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format, get_timezone_name
from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

Lang = Literal["ar", "en"]


Digits = Literal["latn", "arab"]
# parsed once: Babel would parse a locale given by name on every call (thousands for one inbox page)
LOCALES: dict[str, Locale] = {"ar": Locale.parse("ar_OM"), "en": Locale.parse("en_GB")}
# Babel 2.19 takes a numbering system's separators from CLDR ("arab": ٫ and ٬) but writes Western digits
# whatever the system; the Arabic-Indic digits are U+0660 to U+0669.
_ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
# An Arabic time inside a left-to-right span (a page may isolate dates that way) still reads right to left.
_RIGHT_TO_LEFT = "\u2067{}\u2069"


def _system(lang: str, digits: Digits) -> str:
    return digits if lang == "ar" else "latn"


def _written(text: str, lang: str, digits: Digits) -> str:
    return text.translate(_ARABIC_INDIC) if lang == "ar" and digits == "arab" else text


def _plain(value: float | Decimal) -> float | int | Decimal:
    """A whole number as an integer, so that 1.0 is shown and counted (plural forms) as 1."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def number(value: float | Decimal, lang: str, *, digits: Digits = "latn") -> str:
    """A number with the locale's separators, at most three decimals, and no ".0" on a whole one."""
    text = format_decimal(_plain(value), locale=LOCALES[lang], numbering_system=_system(lang, digits))
    return _written(text, lang, digits)


def percent(share: float, lang: str, *, digits: Digits = "latn") -> str:
    """A share (1.0 is 100%) as a whole percentage."""
    text = format_percent(share, locale=LOCALES[lang], numbering_system=_system(lang, digits))
    return _written(text, lang, digits)


def money(value: float | Decimal, currency: str, lang: str, *, digits: Digits = "latn") -> str:
    """An amount with the currency as the locale writes it: "12,000.000 ر.ع." in Arabic, "OMR12,000.000" in English."""
    text = format_currency(value, currency, locale=LOCALES[lang], numbering_system=_system(lang, digits))
    return _written(text, lang, digits)


def measure(value: float | Decimal, unit: str, lang: str, *, digits: Digits = "latn") -> str:
    """A quantity of a CLDR unit in the language's grammar: `measure(2, "duration-day", "ar")` is "يومان"."""
    text = format_unit(_plain(value), unit, locale=LOCALES[lang], numbering_system=_system(lang, digits))
    return _written(text, lang, digits)


def quarter(value: str, words: Mapping[str, str], lang: str, *, digits: Digits = "latn") -> str:
    """A programme quarter, "2025-Q3", as "الربع الثالث 2025" / "Q3 2025" (`words`: Q1 to Q4 in the language).

    The year is written as a year, without a thousands separator."""
    year, _, part = value.partition("-")
    return f"{words[part]} {_written(year, lang, digits)}"


def day(value: date, lang: str, *, digits: Digits = "latn") -> str:
    """A calendar day, long: "21 يونيو 2025", "21 June 2025"."""
    return _written(format_date(value, "long", locale=LOCALES[lang]), lang, digits)


def moment(value: datetime, zone: str, lang: str, *, digits: Digits = "latn") -> str:
    """A time in `zone`, written for the language (the locale's own date, time and joining pattern), with the
    zone named in the language."""
    tz = ZoneInfo(zone)
    local = value.astimezone(tz)
    where = LOCALES[lang]
    both = (  # the locale's own joining pattern: "{1}، {0}" in Arabic, "{1}, {0}" in British English
        str(get_datetime_format("long", locale=where))
        .replace("{1}", format_date(local, "long", locale=where))
        .replace("{0}", format_time(local, "short", locale=where))
    )
    text = _written(f"{both} ({get_timezone_name(tz, 'long', locale=where)})", lang, digits)
    return _RIGHT_TO_LEFT.format(text) if lang == "ar" else text
