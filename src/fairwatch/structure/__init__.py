"""Structure supervision: ownership, groups, deal screening, the capital traffic light, grading.

- :mod:`fairwatch.structure.ownership`: the dated ownership graph; ultimate controllers,
  groups, effective shareholdings, group turnovers.
- :mod:`fairwatch.structure.deals`: merger notification screening under the thresholds
  in force at the deal date, the intra-group exemption, market effects.
- :mod:`fairwatch.structure.merger_sim`: upward pricing pressure, GUPPI and logit merger
  simulation (calibrated, or estimated through pyblp).
- :mod:`fairwatch.structure.traffic_light`: red / yellow / green for deals and proposed
  investments, each reason with its figures and citation.
- :mod:`fairwatch.structure.grading`: platform category and grade, DMA / DSA tests, and
  the obligations that follow.
"""
