"""The families of the reporting standard's Findings section and their subjects.

Every true violation of a family must be reported on the family's subject type; a
detector may report further subject types as well. New families may be added; these
names and subjects stay (the standard's promise).
"""

from __future__ import annotations

FAMILIES: dict[str, str] = {
    "pricing.personalized_discrimination": "sku",
    "pricing.fictitious_original_price": "sku",
    "pricing.price_gouging": "sku",
    "pricing.collusion": "market",
    "conduct.exclusive_dealing": "platform",
    "conduct.self_preferencing": "platform",
    "conduct.unfair_fee_change": "fee",
    "conduct.rule_change_notice": "rule_change",
    "integrity.fake_reviews": "merchant",
    "integrity.fake_accounts": "account_cluster",
    "ads.prohibited_claim": "ad",
    "ads.unlabeled": "ad",
    "ads.unclosable_popup": "ad",
    "labour.delivery_time_pressure": "platform_region",
    "labour.pay_below_minimum_wage": "platform_region",
    "labour.excessive_hours": "platform_region",
    "data.cross_border_mechanism": "entity_year",
    "algorithm.unfiled": "platform",
    "structure.unnotified_concentration": "deal",
    "consumer.complaint_surge": "merchant",
}

SEVERITIES = ("info", "low", "medium", "high", "critical")
