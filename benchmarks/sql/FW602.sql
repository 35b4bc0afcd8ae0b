-- FW602 engine phase, hand-written: the inventory with its filings aggregated per
-- platform and algorithm type
WITH per_type AS (
  SELECT platform_id AS f_platform_id, algorithm_type AS f_algorithm_type,
         min(filed_on) FILTER (WHERE status = 'filed') AS first_filed,
         sum(CASE WHEN status = 'filed' AND filed_on IS NULL THEN 1 ELSE 0 END) AS filed_undated,
         min(filed_on) FILTER (WHERE status = 'deregistered') AS first_deregistered,
         sum(CASE WHEN status = 'deregistered' AND filed_on IS NULL THEN 1 ELSE 0 END)
           AS deregistered_undated,
         sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
         sum(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END) AS rejected,
         count(*) AS filings
  FROM {algorithm_filings}
  GROUP BY ALL
)
SELECT i.platform_id, i.service, i.algorithm_type, i.in_use_from, i.in_use_to,
       t.first_filed, t.filed_undated, t.first_deregistered, t.deregistered_undated,
       t.pending, t.rejected, t.filings
FROM {algorithm_inventory} AS i
LEFT JOIN per_type AS t
  ON i.platform_id = t.f_platform_id AND i.algorithm_type = t.f_algorithm_type
