-- FW201 engine phase, hand-written: the same aggregation as ExclusiveStores.summarize —
-- organic appearances and position sums per store, query and China-local day, and the
-- rows at position 1 (summed over a query's stores: its searches that day)
SELECT platform_id, merchant_id, query,
       CAST(ts + INTERVAL 8 HOUR AS DATE) AS day,
       sum(CASE WHEN NOT sponsored THEN 1 ELSE 0 END) AS shown,
       sum(CASE WHEN NOT sponsored THEN position ELSE 0 END) AS position_sum,
       sum(CASE WHEN position = 1 THEN 1 ELSE 0 END) AS tops
FROM {search_results}
GROUP BY ALL
