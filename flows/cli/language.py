"""The CLI's language: `--lang ar`, or `MUSHARAKA_LANG=ar`; English by default (flows/views/tables.py lays out
its tables)."""

import click

from musharaka.flows.render.locale import Lang

LANGS: tuple[Lang, ...] = ("en", "ar")


def current() -> Lang:
    """The language the command speaks (the root command's `--lang`)."""
    context = click.get_current_context(silent=True)
    lang = context.find_root().meta.get("lang", "en") if context else "en"
    return "ar" if lang == "ar" else "en"
