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


def test_every_extracted_message_has_a_chinese_translation() -> None:
    from babel.messages.extract import extract_from_dir

    web = i18n.HERE.parent
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ids = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(str(web), method_map, options_map=options)
    }
    zh = i18n.translations("zh")
    missing = sorted(i for i in ids if i and zh.gettext(i) == i)
    assert ids and not missing, f"no Chinese for: {missing}"
