"""FW402 ads.unlabeled."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.engine import local_date

#: Score of unlabelled paid content, and with a purchase link or call to buy.
SCORE_PAID = 0.7
SCORE_PURCHASE_LINK = 0.95


class UnlabeledPaidContent(Detector):
    """Paid content shown without the "广告" label.

    **What it detects**

    Ads the platform reports as paid (``paid``) but shown without an advertisement label
    (``labeled_as_ad`` false): sponsored posts, live-stream and video placements,
    "reviews" and articles with purchase links, and paid search rankings that look like
    organic content.

    **Why it matters**

    Advertisements must be identifiable as such and internet ads labelled "广告"
    (Advertising Law art. 14; Internet Advertising Measures art. 9, which also requires
    the label on content that promotes goods through knowledge, experience sharing or
    reviews with a purchase link); goods ranked for payment in search results must be
    labelled "广告" (E-Commerce Law art. 40). The publisher may be fined up to
    100,000 yuan (art. 59).

    **Method**

    The engine selects ads with ``paid`` true and ``labeled_as_ad`` false. Each is
    reported on its own; the statistics name the format and whether the text carries
    a purchase link or call to buy (``cn.detection.ads.purchase_link_cues``, regular
    expressions on the NFKC-normalised, case-folded text), which sets the severity
    (``cn.detection.ads.unlabeled_severity``) and the score. Paid search placements
    also cite the E-Commerce Law's paid-ranking rule. The label the law requires
    (``cn.advertising.ad_label``) is stated in the statistics.

    **Known limitations**

    The test trusts the platform's ``paid`` and ``labeled_as_ad`` flags: a label that is
    present but not prominent, or commercial content the platform does not report as
    paid (a merchant promoting its own goods with a purchase link), is not seen.
    """

    code = "FW402"
    name = "ads.unlabeled_paid_content"
    family = "ads.unlabeled"
    legal_basis = (
        "cn.advertising_law.art14",
        "cn.internet_advertising_measures.art9",
        "cn.ecommerce_law.art40",
    )
    parameters = (
        "cn.advertising.ad_label",
        "cn.detection.ads.purchase_link_cues",
        "cn.detection.ads.unlabeled_severity",
    )
    inputs = {
        "ads": ("ad_id", "ts", "platform_id", "format", "text", "labeled_as_ad", "paid"),
    }

    def summarize(self, ctx: Context) -> ir.Table:
        a = ctx.table("ads")
        a = a.filter(a.paid, ~a.labeled_as_ad)
        return a.select("ad_id", "platform_id", "format", "text", day=local_date(a.ts))

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        label = ctx.param("cn.advertising.ad_label")
        cues = [re.compile(p) for p in ctx.param("cn.detection.ads.purchase_link_cues")]
        severities = ctx.param("cn.detection.ads.unlabeled_severity")
        findings = []
        for row in summary.sort_values("ad_id").itertuples(index=False):
            text = _normalized(row.text)
            link = next((m.group(0) for p in cues if (m := p.search(text))), None)
            day = pd.Timestamp(row.day).date()
            basis = ["cn.advertising_law.art14", "cn.internet_advertising_measures.art9"]
            if row.format == "search":
                basis.append("cn.ecommerce_law.art40")
            findings.append(
                self.finding(
                    ctx,
                    subject_id=str(row.ad_id),
                    platform_id=str(row.platform_id),
                    period_start=day,
                    period_end=day,
                    severity=severities["purchase_link" if link else "other"],
                    score=SCORE_PURCHASE_LINK if link else SCORE_PAID,
                    statistics={
                        "format": row.format,
                        "paid": True,
                        "labeled_as_ad": False,
                        "purchase_link": link is not None,
                        "purchase_link_cue": link,
                        "required_label": label,
                    },
                    evidence=[
                        Evidence("ads", [str(row.ad_id)], note="paid, not labelled"),
                        {"sample": _excerpt(row.text)},
                    ],
                    legal_basis=basis,
                )
            )
        ctx.log.info("%d unlabelled paid ads", len(findings))
        return findings


def _excerpt(text: Any, limit: int = 60) -> str:
    if text is None or (pd.api.types.is_scalar(text) and pd.isna(text)):
        return ""
    text = str(text).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _normalized(text: Any) -> str:
    if text is None or (pd.api.types.is_scalar(text) and pd.isna(text)):
        return ""
    return unicodedata.normalize("NFKC", str(text)).casefold()
