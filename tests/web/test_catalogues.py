"""The Chinese catalogues: readable by Babel, and one translation per message."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from babel.messages.pofile import read_po

from fairwatch.web import i18n


def test_no_message_is_translated_two_ways() -> None:
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for po in sorted((i18n.HERE / "zh").glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="zh"):
                if message.id and message.string:
                    seen[str(message.id)][str(message.string)].append(Path(po).name)
    clashes = {k: dict(v) for k, v in seen.items() if len(v) > 1}
    assert not clashes, f"translated differently in different catalogues: {clashes}"


def test_chinese_is_the_default_and_english_the_msgids() -> None:
    assert i18n.pick(None, None, "en-US,en") == "zh"
    assert i18n.translations("zh").gettext("Sign in") == "登录"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
