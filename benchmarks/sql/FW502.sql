-- FW502 engine phase, hand-written: the same aggregation as PayBelowMinimumWage.summarize.
-- Spans between the dates the Zhejiang minimum-wage parameters change (2021-08-01,
-- 2025-01-01), bounded at China local midnight (UTC+8): 1627776000 - 8 h, 1735689600 - 8 h.
WITH main_delivery_region AS (
  SELECT platform_id, rider_id AS worker_id, region_code AS delivery_region
  FROM (SELECT platform_id, rider_id, region_code, count(*) AS tasks FROM {deliveries}
        WHERE region_code IS NOT NULL GROUP BY ALL)
  QUALIFY row_number() OVER (PARTITION BY platform_id, rider_id
                             ORDER BY tasks DESC, region_code) = 1
),
s AS (
  SELECT s.worker_id, s.platform_id,
         coalesce(s.region_code, m.delivery_region) AS region,
         CAST(floor(epoch(s.online_from)) AS BIGINT) AS t0,
         CAST(floor(epoch(s.online_to)) AS BIGINT) AS t1,
         CAST(s.online_from + INTERVAL 8 HOUR AS DATE) AS day
  FROM {worker_sessions} s
  LEFT JOIN main_delivery_region m ON s.platform_id = m.platform_id AND s.worker_id = m.worker_id
  WHERE s.online_to > s.online_from
),
per_region AS (
  SELECT platform_id, worker_id, region,
         sum(greatest(least(t1, 1627776000 - 28800) - t0, 0)) AS secs_0,
         sum(greatest(least(t1, 1735689600 - 28800) - greatest(t0, 1627776000 - 28800), 0)) AS secs_1,
         sum(greatest(t1 - greatest(t0, 1735689600 - 28800), 0)) AS secs_2,
         min(day) AS first_day, max(day) AS last_day
  FROM s GROUP BY ALL
),
pay AS (
  SELECT platform_id, rider_id,
         sum(CASE WHEN t < 1627776000 - 28800 THEN net ELSE 0 END) AS net_0,
         sum(CASE WHEN t >= 1627776000 - 28800 AND t < 1735689600 - 28800 THEN net ELSE 0 END) AS net_1,
         sum(CASE WHEN t >= 1735689600 - 28800 THEN net ELSE 0 END) AS net_2,
         count(*) AS tasks, sum(deduction) AS deductions_cny
  FROM (SELECT platform_id, rider_id, CAST(floor(epoch(dispatched_at)) AS BIGINT) AS t,
               coalesce(pay_cny, 0) - coalesce(deduction_cny, 0) AS net,
               coalesce(deduction_cny, 0) AS deduction
        FROM {deliveries})
  GROUP BY ALL
)
SELECT r.platform_id, r.worker_id, r.region, r.secs_0, r.secs_1, r.secs_2,
       coalesce(p.net_0, 0) AS net_0, coalesce(p.net_1, 0) AS net_1, coalesce(p.net_2, 0) AS net_2,
       coalesce(p.tasks, 0) AS tasks, coalesce(p.deductions_cny, 0) AS deductions_cny,
       r.first_day, r.last_day
FROM per_region r
LEFT JOIN pay p ON r.platform_id = p.platform_id AND r.worker_id = p.rider_id
