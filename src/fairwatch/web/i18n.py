"""Message catalogues: Simplified Chinese by default, English as written in the templates.

Templates and page code mark text with ``_()`` (English msgids). Translations live in
Babel ``.po`` catalogues under ``i18n/<lang>/``, one file per page group so they can be
maintained apart; they are read with Babel and merged at start-up (no compile step).
``pybabel extract -F babel.cfg -o messages.pot src/fairwatch/web`` (babel.cfg at the
repository root) lists every msgid for translators; a test checks none is missing.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

HERE = Path(__file__).parent / "i18n"
LANGUAGES = ("zh", "en")
DEFAULT = "zh"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


@cache
def translations(lang: str) -> NullTranslations:
    """The merged catalogue of ``lang`` (English: the msgids themselves)."""
    folder = HERE / lang
    if lang == "en" or not folder.is_dir():
        return NullTranslations()
    merged = Catalog(locale=lang)
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and message.string:
                    merged.add(message.id, message.string)
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer)


def pick(requested: str | None, cookie: str | None, accept: str | None) -> str:
    """The page language: ``?lang=``, then the ``fw_lang`` cookie, then Chinese."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return str(choice)
    del accept  # the default is Chinese whatever the browser says (the users' language)
    return DEFAULT
