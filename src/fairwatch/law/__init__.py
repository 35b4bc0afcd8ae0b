"""Law as data: dated, cited legal and policy parameters in rule packs.

Rule packs live in ``fairwatch/law/packs/<jurisdiction>/``: ``cn`` (national China),
``cn_zj`` (Zhejiang; pack id ``cn-zj`` is accepted too), ``eu`` and ``us``. Each
parameter is one YAML file whose path is its dotted name, so
``packs/cn/aml/merger_thresholds/global_combined_cny.yaml`` is
``cn.aml.merger_thresholds.global_combined_cny``. Each pack's ``_citations.yaml``
registers reusable citation keys (``cn.pipl.art24``).

>>> from datetime import date
>>> from fairwatch.law import default_store
>>> default_store().value("cn.aml.merger_thresholds.global_combined_cny", date(2024, 6, 1))
12000000000
"""

from fairwatch.law.loader import available_packs, default_store, load_store
from fairwatch.law.model import (
    Change,
    Citation,
    DatedValue,
    Kind,
    Parameter,
    UnknownCitationError,
    UnknownParameterError,
)
from fairwatch.law.store import LawStore

__all__ = [
    "Change",
    "Citation",
    "DatedValue",
    "Kind",
    "LawStore",
    "Parameter",
    "UnknownCitationError",
    "UnknownParameterError",
    "available_packs",
    "default_store",
    "load_store",
]
