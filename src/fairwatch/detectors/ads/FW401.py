"""FW401 ads.prohibited_claim."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.ads.text import (
    ABSOLUTE,
    CATEGORY_CLASSES,
    CLASSES,
    COMPANY_NAME,
    DISEASE,
    EFFICACY,
    PARAMETERS,
    RETURN,
    TRADEMARK,
    AdTextScreen,
    Name,
    Screening,
)
from fairwatch.detectors.base import Context, Detector
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.engine import local_date

#: Score weight of one violating hit (a listed screening term; a statutory term or a
#: category claim), combined as 1 - prod(1 - w): more and stronger hits rank higher.
WEIGHT_LISTED = 0.6
WEIGHT_STRONG = 0.8
MAX_SAMPLES = 5


class AbsoluteClaim(Detector):
    """Ad texts with absolute terms, or cure, efficacy or return claims their category forbids.

    **What it detects**

    Ads whose text uses an absolute term (最佳, 第一, 国家级, NO.1, "best", "number one" …)
    as a claim, ads outside the drug and medical device categories that claim to cure or
    treat diseases (治愈, 根治, 药到病除, "cures"), drug, medical device and health food ads
    that guarantee efficacy or safety (治愈率, 无副作用), and finance ads that guarantee
    principal, returns or safety (保本, 稳赚, 无风险, "guaranteed returns").

    **Why it matters**

    The Advertising Law bans "国家级", "最高级", "最佳" and similar terms (art. 9(3)),
    disease-treatment claims outside medical, drug and device ads (art. 17), efficacy and
    safety guarantees in drug, device and health food ads (arts. 16, 18), and guarantees
    of principal, returns or no risk in investment ads (art. 25); cure claims for food
    and cosmetics are also false advertising (art. 28). The SAMR guidelines (2023 No. 6)
    let first minor absolute-term violations go unpunished, except efficacy and cure
    claims for drugs, medical devices, health food and special medical food and return
    or safety claims for financial products.

    **Method**

    The engine selects the ads with a text. Each text is normalised (NFKC, case folded:
    ``ＮＯ．１`` reads ``no.1``) and matched with one Aho-Corasick automaton built from the
    law store's lists at the as-of date: the absolute terms
    (``cn.advertising.absolute_terms``: ``zh``, ``en``, ``statutory_zh``) and the
    category claims (``cn.advertising.disease_treatment``, ``efficacy_guarantee`` and
    ``guaranteed_return``: ``zh``, ``en``, and the categories each applies to). A hit
    must be a word: an ASCII term between word boundaries (not ``best`` in
    ``bestseller``); a Chinese term inside one jieba word (天下第一) or starting where a
    jieba word starts, and not running into a number (not ``第一`` in ``第/一百二十``,
    not ``保本`` in ``确保/本金``). Overlapping hits keep the longest.

    A hit is a lawful use, not a violation, when it lies in a non-claim use
    (``cn.detection.ads.non_claim_patterns``: 第一次, 最近, 最高减200元, 万能胶), or in a
    stretch of the text that is also part of a registered name the advertiser trades
    under — the advertiser's (``entities.name`` through ``ads.advertiser_id``), the
    merchant's entity, a brand the merchant sells (``products.brand_id``) — at least
    ``cn.detection.ads.min_name_match_chars`` long and longer than the term. An absolute
    term is also lawful inside a usage tip (``usage_tip_patterns``: 最佳使用时间, "best
    time to use"), an officially awarded title (``official_title_patterns``:
    国家级非物质文化遗产), a grade stated with its national standard (``grade_patterns``),
    next to an own-range qualifier (``own_range_markers``: 本店最新款, "in our range"),
    or when attached to a sales or share metric (within
    ``qualified_fact_window_chars``) in a sentence that states a time, a region and a
    source (``qualified_fact_cues``). A category claim preceded by a negation in its
    clause (``negation_cues`` within ``negation_window_tokens`` words: 非保本,
    不保证收益, 不能治愈) is a disclosure.

    An ad with at least one remaining hit is reported: evidence quotes each offending
    span in context with its term class, the statistics list the terms and the lawful
    uses set aside. Severity follows ``cn.detection.ads.claim_severity``; a category
    claim of a kind the guidelines' no-penalty exceptions name for the ad's category
    (``cn.advertising.absolute_terms.no_penalty_exceptions``, read through
    ``guideline_categories`` and ``claim_kinds``) is the most severe.

    **Known limitations**

    The lists are screening lists: a synonym not on them is not seen, and "similar
    terms" are left to the regulator's lists. Whether a qualified sales fact, an
    awarded title or an own-range comparison is true is not checked, nor are slogans
    (the guidelines' motto class) told apart from claims. Registered names come from
    ``entities`` (and ``merchants``/``products`` for the merchant's entity and brands)
    when the lake has them; without them every name that contains a term is reported.
    Store names are not registered names and give no exclusion. Ads in languages other
    than Chinese and English, text in images or video, and categories the platform
    misreports (a supplement reported as ``general``) are judged as reported.
    """

    code = "FW401"
    name = "ads.absolute_claim"
    family = "ads.prohibited_claim"
    legal_basis = (
        "cn.advertising_law.art9",
        "cn.advertising_law.art16",
        "cn.advertising_law.art17",
        "cn.advertising_law.art18",
        "cn.advertising_law.art25",
        "cn.advertising_law.art28",
        "cn.absolute_terms_guidelines",
    )
    parameters = (
        *PARAMETERS,
        "cn.advertising.absolute_terms.no_penalty_exceptions",
        "cn.detection.ads.guideline_categories",
        "cn.detection.ads.claim_kinds",
        "cn.detection.ads.claim_severity",
    )
    inputs = {
        "ads": (
            "ad_id",
            "ts",
            "platform_id",
            "advertiser_id",
            "merchant_id",
            "text",
            "language",
            "product_category",
        ),
    }
    optional_inputs = {
        "entities": ("entity_id", "name"),
        "merchants": ("merchant_id", "entity_id"),
        "products": ("merchant_id", "brand_id"),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        a = ctx.table("ads")
        a = a.filter(a.text.notnull())
        return a.select(
            "ad_id",
            "platform_id",
            "advertiser_id",
            "merchant_id",
            "text",
            "language",
            "product_category",
            day=local_date(a.ts),
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        screen = AdTextScreen(ctx.param)
        first: dict[str, Screening] = {}
        seen: dict[tuple[str, str | None], Screening] = {}  # the same creative, screened once
        for row in summary.itertuples(index=False):
            key = (str(row.text), _category(row.product_category))
            result = seen.get(key)
            if result is None:
                result = seen[key] = screen.screen(*key)
            if result.violations:
                first[str(row.ad_id)] = result
        if not first:
            return []
        rows = summary[summary["ad_id"].astype(str).isin(first)]
        names = self._names(ctx, rows)
        findings = []
        for row in rows.sort_values("ad_id").itertuples(index=False):
            ad_id = str(row.ad_id)
            category = _category(row.product_category)
            own = names.get(ad_id, [])
            result = screen.screen(str(row.text), category, own) if own else first[ad_id]
            if result.violations:
                findings.append(self._finding(ctx, row, category, result))
        ctx.log.info(
            "%d ads screened, %d with a term, %d reported",
            len(summary),
            len(first),
            len(findings),
        )
        return findings

    # ------------------------------------------------------------------ names

    def _names(self, ctx: Context, rows: pd.DataFrame) -> dict[str, list[Name]]:
        """Registered names each ad's advertiser trades under: the advertiser's and the
        merchant's entity names, and the names of the brands the merchant sells."""
        if not ctx.has("entities"):
            ctx.log.warning("no entities table: registered names cannot be set aside")
            return {}
        entities = ctx.table("entities")
        by_entity: dict[str, set[str]] = defaultdict(set)  # entity -> ad ids
        by_brand: dict[str, set[str]] = defaultdict(set)
        for row in rows.itertuples(index=False):
            if _present(row.advertiser_id):
                by_entity[str(row.advertiser_id)].add(str(row.ad_id))
        merchants = sorted({str(m) for m in rows["merchant_id"] if _present(m)})
        if merchants and ctx.has("merchants"):
            m = ctx.table("merchants")
            m = m.filter(m.merchant_id.isin(merchants), m.entity_id.notnull())
            owners = ctx.execute(m.select("merchant_id", "entity_id"))
            owner = dict(zip(owners["merchant_id"], owners["entity_id"], strict=True))
            for row in rows.itertuples(index=False):
                if _present(row.merchant_id) and row.merchant_id in owner:
                    by_entity[str(owner[row.merchant_id])].add(str(row.ad_id))
        if merchants and ctx.has("products"):
            p = ctx.table("products")
            p = p.filter(p.merchant_id.isin(merchants), p.brand_id.notnull())
            brands = ctx.execute(p.select("merchant_id", "brand_id").distinct())
            sold: dict[str, set[str]] = defaultdict(set)
            for merchant, brand in zip(brands["merchant_id"], brands["brand_id"], strict=True):
                sold[str(merchant)].add(str(brand))
            for row in rows.itertuples(index=False):
                if _present(row.merchant_id):
                    for brand in sold.get(str(row.merchant_id), ()):
                        by_brand[brand].add(str(row.ad_id))
        wanted = sorted(set(by_entity) | set(by_brand))
        if not wanted:
            return {}
        e = entities.filter(entities.entity_id.isin(wanted))
        found = ctx.execute(e.select("entity_id", "name"))
        out: dict[str, list[Name]] = defaultdict(list)
        for entity_id, name in zip(found["entity_id"], found["name"], strict=True):
            if not _present(name):
                continue
            for ad_id in sorted(by_entity.get(str(entity_id), ())):
                out[ad_id].append(Name.of(str(name), COMPANY_NAME))
            for ad_id in sorted(by_brand.get(str(entity_id), ())):
                out[ad_id].append(Name.of(str(name), TRADEMARK))
        return dict(out)

    # ------------------------------------------------------------------ findings

    def _finding(self, ctx: Context, row: Any, category: str | None, result: Screening) -> Finding:
        hits = result.violations
        classes = sorted({h.cls for h in hits}, key=CLASSES.index)
        exception = self._no_penalty_exception(ctx, category, classes)
        severities = ctx.param("cn.detection.ads.claim_severity")
        if exception:
            severity = severities["no_penalty_exception"]
        elif any(c in CATEGORY_CLASSES for c in classes):
            severity = severities["category_claim"]
        else:
            severity = severities["absolute_term"]
        spans = sorted({(h.start, h.end) for h in hits})
        weights = [
            WEIGHT_STRONG
            if any(h.statutory or h.cls != ABSOLUTE for h in hits if (h.start, h.end) == span)
            else WEIGHT_LISTED
            for span in spans
        ]
        miss = 1.0
        for w in weights:
            miss *= 1 - w
        samples: list[dict[str, Any]] = []
        for span in spans[:MAX_SAMPLES]:
            at = [h for h in hits if (h.start, h.end) == span]
            samples.append(
                {
                    "sample": result.sample(at[0]),
                    "term": at[0].term,
                    "term_class": "+".join(h.cls for h in at),
                    "statutory": any(h.statutory for h in at),
                }
            )
        day = pd.Timestamp(row.day).date()
        return self.finding(
            ctx,
            subject_id=str(row.ad_id),
            platform_id=str(row.platform_id) if _present(row.platform_id) else None,
            period_start=day,
            period_end=day,
            severity=severity,
            score=round(1 - miss, 6),
            statistics={
                "terms": sorted({h.term for h in hits}),
                "term_classes": classes,
                "hits": len(spans),
                "statutory_terms": sorted({h.term for h in hits if h.statutory}),
                "product_category": category,
                "language": str(row.language) if _present(row.language) else "zh",
                "no_penalty_exception": exception,
                "lawful_uses_set_aside": [
                    {"term": h.term, "term_class": h.cls, "exclusion": h.excluded}
                    for h in result.excluded
                ],
            },
            evidence=[Evidence("ads", [str(row.ad_id)], note="the ad text"), *samples],
            legal_basis=_legal_basis(classes, category, exception),
        )

    @staticmethod
    def _no_penalty_exception(ctx: Context, category: str | None, classes: list[str]) -> bool:
        """A claim of a kind the guidelines never let go unpunished in this category."""
        guideline = ctx.param("cn.detection.ads.guideline_categories").get(category or "")
        if guideline is None:
            return False
        exceptions = ctx.param("cn.advertising.absolute_terms.no_penalty_exceptions")
        kinds = ctx.param("cn.detection.ads.claim_kinds")
        listed = set(exceptions.get(guideline, []))
        return any(kinds.get(c) in listed for c in classes if c in kinds)


def _legal_basis(classes: list[str], category: str | None, exception: bool) -> list[str]:
    keys: list[str] = []
    if ABSOLUTE in classes:
        keys.append("cn.advertising_law.art9")
    if EFFICACY in classes:
        keys.append(
            "cn.advertising_law.art18" if category == "health_food" else "cn.advertising_law.art16"
        )
    if DISEASE in classes:
        keys.append(
            "cn.advertising_law.art18" if category == "health_food" else "cn.advertising_law.art17"
        )
        keys.append("cn.advertising_law.art28")
    if RETURN in classes:
        keys.append("cn.advertising_law.art25")
    if exception:
        keys.append("cn.absolute_terms_guidelines")
    return list(dict.fromkeys(keys))


def _present(value: Any) -> bool:
    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value))


def _category(value: Any) -> str | None:
    return str(value) if _present(value) else None
