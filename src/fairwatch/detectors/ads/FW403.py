"""FW403 ads.unclosable_popup."""

from __future__ import annotations

import math
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from fairwatch.detectors.base import Context, Detector
from fairwatch.detectors.families import SEVERITIES
from fairwatch.detectors.findings import Evidence, Finding
from fairwatch.engine import local_date

#: Ways of breaking the one-click rule (names of cn.advertising.popup.violation_patterns).
NO_CLOSE = "no_close_mark"
CLICKS = "two_or_more_clicks_to_close"
COUNTDOWN = "countdown_before_close"


class UnclosablePopup(Detector):
    """Pop-up and splash ads that cannot be closed in one click at once.

    **What it detects**

    Pop-up and splash ads (and closable ads in video) that cannot be closed at all
    (``close_clicks`` = 0), need more clicks to close than the one-click rule allows, or
    make the viewer wait for a countdown before the close mark works (``close_delay_s``
    > 0).

    **Why it matters**

    Internet ads shown as pop-ups must display a close mark and close in one click
    (Advertising Law art. 44(2)); from 1 May 2023 the Internet Advertising Measures
    (art. 10) extend this to splash and in-video ads and name the breaches: no close
    mark, a countdown before closing, a fake close mark, two or more clicks, re-popping
    after close. The advertiser may be fined 5,000-30,000 yuan (art. 62).

    **Method**

    The formats in scope are those of ``cn.advertising.popup.one_click_close_formats``
    at the as-of date, read through ``cn.detection.ads.closable_formats`` (``popup`` is
    a pop-up, ``splash`` a splash ad, ``video`` an in-video ad). The engine selects the
    ads of those formats whose close fields show a breach: ``close_clicks`` = 0,
    ``close_clicks`` above ``cn.advertising.popup.max_close_clicks``, or
    ``close_delay_s`` > 0. Each ad is reported once, naming every breach; severity is
    the worst breach's (``cn.detection.ads.popup_severity``); the score is 1 for an ad
    that cannot be closed and grows with the clicks and the delay otherwise.

    **Known limitations**

    Ads with null close fields are not closable content and are not judged. Fake or
    hard-to-find close marks and ads that pop up again after closing are not in the
    reporting standard and are not seen. The formats follow the law in force at the
    as-of date, not at the time of each ad.
    """

    code = "FW403"
    name = "ads.unclosable_popup"
    family = "ads.unclosable_popup"
    legal_basis = ("cn.advertising_law.art44", "cn.internet_advertising_measures.art10")
    parameters = (
        "cn.advertising.popup.one_click_close_formats",
        "cn.advertising.popup.max_close_clicks",
        "cn.detection.ads.closable_formats",
        "cn.detection.ads.popup_severity",
    )
    inputs = {
        "ads": ("ad_id", "ts", "platform_id", "format", "close_clicks", "close_delay_s"),
    }

    def _formats(self, ctx: Context) -> list[str]:
        in_law = set(ctx.param("cn.advertising.popup.one_click_close_formats"))
        mapping = ctx.param("cn.detection.ads.closable_formats")
        return sorted(fmt for fmt, law in mapping.items() if law in in_law)

    def summarize(self, ctx: Context) -> ir.Table:
        max_clicks = int(ctx.param("cn.advertising.popup.max_close_clicks"))
        a = ctx.table("ads")
        clicks = a.close_clicks
        delay = a.close_delay_s
        breach = (clicks == 0) | (clicks > max_clicks) | (delay > 0)
        a = a.filter(a.format.isin(self._formats(ctx)), breach.fill_null(False))
        return a.select(
            "ad_id",
            "platform_id",
            "format",
            "close_clicks",
            "close_delay_s",
            day=local_date(a.ts),
        )

    def judge(self, ctx: Context, summary: pd.DataFrame) -> list[Finding]:
        if summary.empty:
            return []
        max_clicks = int(ctx.param("cn.advertising.popup.max_close_clicks"))
        severities = ctx.param("cn.detection.ads.popup_severity")
        law_formats = ctx.param("cn.advertising.popup.one_click_close_formats")
        findings = []
        for row in summary.sort_values("ad_id").itertuples(index=False):
            clicks = _number(row.close_clicks)
            delay = _number(row.close_delay_s)
            breaches: list[str] = []
            score = 0.0
            if clicks is not None and clicks == 0:
                breaches.append(NO_CLOSE)
                score = 1.0
            elif clicks is not None and clicks > max_clicks:
                breaches.append(CLICKS)
                score = max(score, min(0.9, 0.5 + 0.15 * (clicks - max_clicks - 1)))
            if delay is not None and delay > 0:
                breaches.append(COUNTDOWN)
                score = max(score, 0.4 + 0.5 * (1 - math.exp(-delay / 5)))
            if not breaches:
                continue
            worst = max((severities[b] for b in breaches), key=SEVERITIES.index)
            day = pd.Timestamp(row.day).date()
            findings.append(
                self.finding(
                    ctx,
                    subject_id=str(row.ad_id),
                    platform_id=str(row.platform_id),
                    period_start=day,
                    period_end=day,
                    severity=worst,
                    score=round(score, 6),
                    statistics={
                        "format": row.format,
                        "breaches": breaches,
                        "close_clicks": None if clicks is None else int(clicks),
                        "close_delay_s": delay,
                        "max_close_clicks": max_clicks,
                        "one_click_formats": law_formats,
                    },
                    evidence=[
                        Evidence("ads", [str(row.ad_id)], note=", ".join(breaches)),
                    ],
                )
            )
        ctx.log.info("%d ads break the one-click close rule", len(findings))
        return findings


def _number(value: Any) -> float | None:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return float(value)
