"""Screening advertising text against the law store's term lists (used by FW401).

The text is normalised (NFKC, case-folded: ``ＮＯ．１`` reads as ``no.1``) and matched
with one Aho-Corasick automaton holding every term of every list (absolute terms and the
category claims: disease treatment, efficacy guarantees, guaranteed returns). A hit
must be a word of the text: an all-ASCII term must sit between word boundaries
(``best`` is not in ``bestseller``), a Chinese term must not start inside another jieba
word or run into a number (``保本`` is not in ``确保/本金``, ``第一`` is not in
``第/一百二十``). Overlapping hits
keep the longest (``最佳`` over ``最``). Each hit of a class that applies to the ad's
product category is then checked against the lawful uses of the absolute-terms
guidelines and the category rules; what remains is a violation.

Every term list, pattern list and threshold comes from the law store at the as-of date
(:data:`PARAMETERS`); nothing legal is written here.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import ahocorasick

log = logging.getLogger(__name__)

#: Term classes: the absolute terms of art. 9(3) and the category claims.
ABSOLUTE = "absolute_term"
DISEASE = "disease_treatment"
EFFICACY = "efficacy_guarantee"
RETURN = "guaranteed_return"
CATEGORY_CLASSES = (DISEASE, EFFICACY, RETURN)
CLASSES = (ABSOLUTE, *CATEGORY_CLASSES)

#: Exclusion classes (the guidelines' names where they have one).
COMPANY_NAME = "company_name"
TRADEMARK = "product_name_or_trademark"
USAGE_TIPS = "usage_tips"
OFFICIAL_TITLE = "officially_awarded_title"
GRADE = "grade_under_national_standard"
OWN_RANGE = "truthful_comparison_within_own_range"
QUALIFIED_FACT = "sales_or_share_fact_qualified_by_time_and_region"
NEGATED = "negated_disclosure"
NON_CLAIM = "non_claim_use"

P = "cn.advertising."
D = "cn.detection.ads."
TERM_LISTS: dict[str, tuple[str, ...]] = {
    ABSOLUTE: (
        P + "absolute_terms.zh",
        P + "absolute_terms.en",
        P + "absolute_terms.statutory_zh",
    ),
    DISEASE: (P + "disease_treatment.zh", P + "disease_treatment.en"),
    EFFICACY: (P + "efficacy_guarantee.zh", P + "efficacy_guarantee.en"),
    RETURN: (
        P + "guaranteed_return.zh",
        P + "guaranteed_return.en",
        P + "guaranteed_return.statutory_zh",
    ),
}
STATUTORY_LISTS = (P + "absolute_terms.statutory_zh", P + "guaranteed_return.statutory_zh")
PARAMETERS: tuple[str, ...] = (
    *(name for names in TERM_LISTS.values() for name in names),
    P + "disease_treatment.exempt_categories",
    P + "efficacy_guarantee.categories",
    P + "guaranteed_return.categories",
    D + "non_claim_patterns",
    D + "usage_tip_patterns",
    D + "official_title_patterns",
    D + "grade_patterns",
    D + "own_range_markers",
    D + "qualified_fact_cues",
    D + "qualified_fact_window_chars",
    D + "negation_cues",
    D + "negation_window_tokens",
    D + "min_name_match_chars",
)

CLAUSE_BREAKS = frozenset(",;:!?。，；：！？\n")
SENTENCE_BREAKS = frozenset("。!?！？\n")
NUMERALS = frozenset("〇零一二两三四五六七八九十百千万亿0123456789")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9']+")


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


# --------------------------------------------------------------------------- normalising


@dataclass(frozen=True)
class Normalized:
    """A text normalised for matching, with the way back to the original characters."""

    original: str
    text: str
    origin: tuple[int, ...] | None = None  # normalised index -> original index

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return len(self.original), len(self.original)
        return self.origin[start], self.origin[end - 1] + 1 if end > start else self.origin[start]

    def sample(self, start: int, end: int, context: int = 15) -> str:
        """The hit in its original spelling, marked, with ``context`` characters around."""
        s, e = self.original_span(start, end)
        lo, hi = max(0, s - context), min(len(self.original), e + context)
        before = ("…" if lo > 0 else "") + self.original[lo:s]
        after = self.original[e:hi] + ("…" if hi < len(self.original) else "")
        return f"{before}【{self.original[s:e]}】{after}".replace("\n", " ")


def normalize(text: str) -> Normalized:
    """NFKC and case folding (full-width ``ＮＯ．１`` and ``No.1`` both read ``no.1``)."""
    if text.isascii():
        return Normalized(text, text.lower())
    folded = unicodedata.normalize("NFKC", text).casefold()
    if len(folded) == len(text):
        return Normalized(text, folded)
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            chars.append(c)
            origin.append(i)
    return Normalized(text, "".join(chars), tuple(origin))


# --------------------------------------------------------------------------- words

_JIEBA_LOCK = threading.Lock()
_TOKENIZER: Any = None


def _tokenizer() -> Any:
    """jieba with its default dictionary only, initialised once, lazily and quietly."""
    global _TOKENIZER
    if _TOKENIZER is None:
        with _JIEBA_LOCK:
            if _TOKENIZER is None:
                with warnings.catch_warnings():
                    # jieba 0.42 has invalid escapes that warn when its source compiles
                    warnings.simplefilter("ignore", DeprecationWarning)
                    warnings.simplefilter("ignore", SyntaxWarning)
                    import jieba

                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _TOKENIZER = tokenizer
    return _TOKENIZER


@lru_cache(maxsize=65_536)
def words(text: str) -> tuple[tuple[int, int], ...]:
    """The (start, end) spans of the jieba words of ``text`` (dictionary words, no HMM)."""
    return tuple((s, e) for _, s, e in _tokenizer().tokenize(text, HMM=False))


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Term:
    """A listed term (as the law store spells it) and the classes that list it."""

    text: str
    classes: frozenset[str]
    statutory: bool
    ascii: bool


class TermIndex:
    """An Aho-Corasick automaton over the normalised terms of every list."""

    def __init__(self, lists: Mapping[str, Iterable[str]], statutory: Iterable[str] = ()) -> None:
        statutory_keys = {normalize(t).text for t in statutory}
        found: dict[str, tuple[str, set[str]]] = {}
        for cls, terms in lists.items():
            for term in terms:
                key = normalize(term).text.strip()
                if not key:
                    continue
                _, classes = found.setdefault(key, (term, set()))
                classes.add(cls)
        self.terms = {
            key: Term(shown, frozenset(classes), key in statutory_keys, key.isascii())
            for key, (shown, classes) in found.items()
        }
        self._automaton = ahocorasick.Automaton()
        for key in self.terms:
            self._automaton.add_word(key, (key, len(key)))
            # "No. 1" is the same term as "No.1": a space may follow a dot
            spaced = re.sub(r"\.(?=\w)", ". ", key) if key.isascii() else key
            if spaced != key and spaced not in self.terms:
                self._automaton.add_word(spaced, (key, len(spaced)))
        if self.terms:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[tuple[int, int, Term]]:
        """Every occurrence of every term in the normalised ``text`` (overlaps included)."""
        if not self.terms:
            return []
        return [
            (end + 1 - length, end + 1, self.terms[key])
            for end, (key, length) in self._automaton.iter(text)
        ]


@lru_cache(maxsize=8)
def _index(lists: tuple[tuple[str, tuple[str, ...]], ...], statutory: tuple[str, ...]) -> TermIndex:
    return TermIndex(dict(lists), statutory)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Name:
    """A registered name the advertiser trades under (normalised)."""

    text: str
    kind: str  # COMPANY_NAME or TRADEMARK

    @classmethod
    def of(cls, name: str, kind: str = COMPANY_NAME) -> Name:
        return cls(normalize(name).text, kind)


@dataclass(frozen=True)
class Hit:
    """A term of one class at a place in the normalised text; ``excluded`` names the
    lawful use when it is not a violation."""

    term: str
    cls: str
    start: int
    end: int
    statutory: bool
    excluded: str | None = None


@dataclass
class Screening:
    """The hits of one ad text, violations and lawful uses."""

    text: Normalized
    hits: list[Hit] = field(default_factory=list)

    @property
    def violations(self) -> list[Hit]:
        return [h for h in self.hits if h.excluded is None]

    @property
    def excluded(self) -> list[Hit]:
        return [h for h in self.hits if h.excluded is not None]

    def sample(self, hit: Hit, context: int = 15) -> str:
        return self.text.sample(hit.start, hit.end, context)


# --------------------------------------------------------------------------- the screen


@dataclass(frozen=True)
class _Text:
    """Per-text working state: the normalised text and its (lazy) jieba words."""

    norm: Normalized
    _words: list[tuple[tuple[int, int], ...]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.norm.text

    def words(self) -> tuple[tuple[int, int], ...]:
        if not self._words:
            self._words.append(words(self.text))
        return self._words[0]

    def clause(self, start: int, end: int) -> tuple[int, int]:
        t = self.text
        lo = start
        while lo > 0 and t[lo - 1] not in CLAUSE_BREAKS:
            lo -= 1
        hi = end
        while hi < len(t) and t[hi] not in CLAUSE_BREAKS:
            hi += 1
        return lo, hi

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        t = self.text

        def stop(i: int) -> bool:
            return t[i] in SENTENCE_BREAKS or (
                t[i] == "." and (i + 1 == len(t) or t[i + 1].isspace())
            )

        lo = start
        while lo > 0 and not stop(lo - 1):
            lo -= 1
        hi = end
        while hi < len(t) and not stop(hi):
            hi += 1
        # a parenthesis right after the sentence (its source, say) belongs to it
        rest = t[hi + 1 :] if hi < len(t) else ""
        if rest.lstrip().startswith("("):
            close = t.find(")", hi + 1)
            hi = close + 1 if close >= 0 else len(t)
        return lo, hi


class AdTextScreen:
    """The law store's term lists and lawful uses at one date, ready to screen texts."""

    def __init__(self, param: Callable[[str], Any]) -> None:
        lists = tuple((cls, tuple(t for n in TERM_LISTS[cls] for t in param(n))) for cls in CLASSES)
        statutory = tuple(t for n in STATUTORY_LISTS for t in param(n))
        self.index = _index(lists, statutory)
        self.disease_exempt = frozenset(param(P + "disease_treatment.exempt_categories"))
        self.efficacy_categories = frozenset(param(P + "efficacy_guarantee.categories"))
        self.return_categories = frozenset(param(P + "guaranteed_return.categories"))
        self.non_claim = [_compile(p) for p in param(D + "non_claim_patterns")]
        self.usage_tips = [_compile(p) for p in param(D + "usage_tip_patterns")]
        self.official_titles = [_compile(p) for p in param(D + "official_title_patterns")]
        self.grades = [_compile(p) for p in param(D + "grade_patterns")]
        markers = param(D + "own_range_markers")
        before, after = markers.get("before", []), markers.get("after", [])
        self.own_before = (
            _compile("(?:" + "|".join(before) + r")(?:的|中|内|里)?\s*$") if before else None
        )
        self.own_after = _compile("(?:" + "|".join(after) + ")") if after else None
        cues = param(D + "qualified_fact_cues")
        self.fact_cues = {k: [_compile(p) for p in cues[k]] for k in cues}
        self.fact_window = int(param(D + "qualified_fact_window_chars"))
        negation = param(D + "negation_cues")
        self.negation_zh = frozenset(negation.get("zh", []))
        self.negation_en = frozenset(c.casefold() for c in negation.get("en", []))
        self.not_negation = tuple(normalize(p).text for p in negation.get("not_negation", []))
        self.conjunctions = frozenset(normalize(c).text for c in negation.get("conjunctions", []))
        self.negation_window = int(param(D + "negation_window_tokens"))
        self.min_name_chars = int(param(D + "min_name_match_chars"))

    # ------------------------------------------------------------------ public

    def classes_for(self, category: str | None) -> frozenset[str]:
        """The term classes that apply to an ad of this product category."""
        applies = {ABSOLUTE}
        if category not in self.disease_exempt:
            applies.add(DISEASE)
        if category in self.efficacy_categories:
            applies.add(EFFICACY)
        if category in self.return_categories:
            applies.add(RETURN)
        return frozenset(applies)

    def screen(self, text: str, category: str | None, names: Sequence[Name] = ()) -> Screening:
        """Every hit of an applicable class in ``text``, each violation or lawful use."""
        t = _Text(normalize(text))
        applies = self.classes_for(category)
        raw = [
            (s, e, term)
            for s, e, term in self.index.find(t.text)
            if term.classes & applies and self._is_word(t, s, e, term)
        ]
        kept = _longest_leftmost(raw)
        spans = [(s, e) for s, e, _ in kept]
        absolute = [(s, e) for s, e, term in kept if ABSOLUTE in term.classes]
        out = Screening(t.norm)
        for s, e, term in kept:
            for cls in sorted(term.classes & applies, key=CLASSES.index):
                out.hits.append(
                    Hit(
                        term.text,
                        cls,
                        s,
                        e,
                        term.statutory,
                        self._lawful_use(t, s, e, cls, names, spans, absolute),
                    )
                )
        return out

    # ------------------------------------------------------------------ words

    @staticmethod
    def _is_word(t: _Text, s: int, e: int, term: Term) -> bool:
        """The hit is a word of the text, not a fragment of other words.

        An ASCII term must sit between word boundaries (``best`` is not in
        ``bestseller``). A Chinese term is a word when it lies inside one jieba word
        (天下第一, 最舒服) or starts where a jieba word starts; it is a fragment when it
        starts inside another word (``保本`` in ``确保/本金``) or runs into a number
        (``第一`` in ``第/一百二十``).
        """
        text = t.text
        if term.ascii:
            before = text[s - 1] if s > 0 else " "
            after = text[e] if e < len(text) else " "
            head, tail = text[s], text[e - 1]
            return not (
                (_is_ascii_alnum(before) and _is_ascii_alnum(head))
                or (_is_ascii_alnum(after) and _is_ascii_alnum(tail))
            )
        spans = t.words()
        if any(ws <= s and e <= we for ws, we in spans):
            return True
        if not any(ws == s for ws, _ in spans):
            return False
        straddling = next((text[ws:we] for ws, we in spans if ws < e < we), None)
        return straddling is None or not all(ch in NUMERALS for ch in straddling)

    # ------------------------------------------------------------------ lawful uses

    def _lawful_use(
        self,
        t: _Text,
        s: int,
        e: int,
        cls: str,
        names: Sequence[Name],
        hit_spans: Sequence[tuple[int, int]],
        absolute_spans: Sequence[tuple[int, int]],
    ) -> str | None:
        if _within(self.non_claim, t.text, s, e):
            return NON_CLAIM
        name = self._name(t, s, e, names)
        if name is not None:
            return name
        if self._negated(t, s, e, hit_spans):
            return NEGATED
        if cls != ABSOLUTE:
            return None
        if _within(self.usage_tips, t.text, s, e):
            return USAGE_TIPS
        if _within(self.official_titles, t.text, s, e):
            return OFFICIAL_TITLE
        if _within(self.grades, t.text, s, e):
            return GRADE
        if self._own_range(t, s, e):
            return OWN_RANGE
        if self._qualified_fact(t, s, e, absolute_spans):
            return QUALIFIED_FACT
        return None

    def _name(self, t: _Text, s: int, e: int, names: Sequence[Name]) -> str | None:
        """The hit lies in a stretch of the text that is also part of a registered name
        of the advertiser (at least ``min_name_chars`` long and longer than the term)."""
        text = t.text
        term = text[s:e]
        for name in names:
            at = name.text.find(term)
            while at >= 0:
                lo, hi = s, e
                n_lo, n_hi = at, at + (e - s)
                while lo > 0 and n_lo > 0 and text[lo - 1] == name.text[n_lo - 1]:
                    lo, n_lo = lo - 1, n_lo - 1
                while hi < len(text) and n_hi < len(name.text) and text[hi] == name.text[n_hi]:
                    hi, n_hi = hi + 1, n_hi + 1
                # never end inside a latin word (the name "best buy" does not cover "best b")
                while hi > e and _is_ascii_alnum(text[hi - 1]) and _cuts(text, hi):
                    hi -= 1
                while lo < s and _is_ascii_alnum(text[lo]) and _cuts(text, lo):
                    lo += 1
                span = text[lo:hi]
                significant = sum(1 for ch in span if ch.isalnum())
                extra = sum(1 for ch in text[lo:s] + text[e:hi] if ch.isalnum())
                if extra > 0 and significant >= self.min_name_chars:
                    return name.kind
                at = name.text.find(term, at + 1)
        return None

    def _negated(self, t: _Text, s: int, e: int, hit_spans: Sequence[tuple[int, int]] = ()) -> bool:
        """A negation cue among the few words before the claim, in its clause.

        Conjunctions and the other claims of a list do not count towards the window
        (不承诺保本和最低收益 negates both).
        """
        text = t.text
        lo, _ = t.clause(s, e)

        def negates(at: int, cue: str, cues: frozenset[str]) -> bool:
            return cue in cues and not any(text.startswith(p, at) for p in self.not_negation)

        def transparent(ws: int, we: int) -> bool:
            return text[ws:we] in self.conjunctions or any(
                a < we and ws < b for a, b in hit_spans if (a, b) != (s, e)
            )

        if _CJK.search(text[s:e]):
            spans = t.words()
            k = next((i for i, w in enumerate(spans) if w[0] <= s < w[1]), None)
            if k is None:
                return False
            start = spans[k][0]
            prefix = text[start:s]
            if prefix and (
                negates(start, prefix, self.negation_zh)
                or negates(start, prefix[:1], self.negation_zh)
            ):
                return True
            candidates = [(ws, we) for ws, we in spans[:k] if ws >= lo]
            cues = self.negation_zh
        else:
            candidates = [m.span() for m in _WORD.finditer(text, lo, s)]
            cues = self.negation_en
        seen = 0
        for ws, we in reversed(candidates):
            if not text[ws:we].strip():
                continue
            if negates(ws, text[ws:we], cues):
                return True
            if transparent(ws, we):
                continue
            seen += 1
            if seen >= self.negation_window:
                break
        return False

    def _own_range(self, t: _Text, s: int, e: int) -> bool:
        lo, hi = t.clause(s, e)
        return bool(
            (self.own_before is not None and self.own_before.search(t.text[lo:s]))
            or (self.own_after is not None and self.own_after.search(t.text[e:hi]))
        )

    def _qualified_fact(
        self, t: _Text, s: int, e: int, absolute_spans: Sequence[tuple[int, int]]
    ) -> bool:
        """A sales/share figure attached to the claim, in a sentence that names the time,
        the region and the source."""
        text = t.text
        c_lo, c_hi = t.clause(s, e)
        attached = False
        for pattern in self.fact_cues.get("metric", []):
            for m in pattern.finditer(text, c_lo, c_hi):
                if m.end() <= s:
                    gap = (m.end(), s)
                elif m.start() >= e:
                    gap = (e, m.start())
                else:
                    continue
                if gap[1] - gap[0] > self.fact_window:
                    continue
                if any(a < gap[1] and b > gap[0] for a, b in absolute_spans if (a, b) != (s, e)):
                    continue
                attached = True
                break
            if attached:
                break
        if not attached:
            return False
        lo, hi = t.sentence(s, e)
        sentence = text[lo:hi]
        return all(
            any(p.search(sentence) for p in self.fact_cues.get(kind, []))
            for kind in ("time", "region", "source")
        )


def _cuts(text: str, i: int) -> bool:
    """Position ``i`` falls between two ASCII letters or digits (inside a word)."""
    return 0 < i < len(text) and _is_ascii_alnum(text[i - 1]) and _is_ascii_alnum(text[i])


def _within(patterns: Sequence[re.Pattern[str]], text: str, s: int, e: int) -> bool:
    for pattern in patterns:
        for m in pattern.finditer(text):
            if m.start() <= s and e <= m.end():
                return True
            if m.start() > s:
                break
    return False


def _longest_leftmost(
    hits: Sequence[tuple[int, int, Term]],
) -> list[tuple[int, int, Term]]:
    """Non-overlapping hits, the longest first among overlapping ones (then the leftmost)."""
    chosen: list[tuple[int, int, Term]] = []
    for s, e, term in sorted(hits, key=lambda h: (-(h[1] - h[0]), h[0])):
        if all(e <= cs or s >= ce for cs, ce, _ in chosen):
            chosen.append((s, e, term))
    return sorted(chosen, key=lambda h: h[0])
