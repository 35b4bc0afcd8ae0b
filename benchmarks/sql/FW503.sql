-- FW503 engine phase, hand-written: the same aggregation as ExcessiveContinuousHours.summarize
-- (cap 12 h, minimum rest 20 min: the parameters' current values)
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
unit AS (
  SELECT platform_id, worker_id, region
  FROM (SELECT platform_id, worker_id, region, sum(t1 - t0) AS secs FROM s
        WHERE region IS NOT NULL GROUP BY ALL)
  QUALIFY row_number() OVER (PARTITION BY platform_id, worker_id ORDER BY secs DESC, region) = 1
),
flagged AS (
  SELECT *, CASE WHEN t0 - max(t1) OVER (PARTITION BY platform_id, worker_id ORDER BY t0, t1
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) >= 20 * 60
                   OR max(t1) OVER (PARTITION BY platform_id, worker_id ORDER BY t0, t1
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) IS NULL
                 THEN 1 ELSE 0 END AS new
  FROM s
),
numbered AS (
  SELECT *, sum(new) OVER (PARTITION BY platform_id, worker_id ORDER BY t0, t1
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS stretch
  FROM flagged
),
stretches AS (
  SELECT n.platform_id, n.worker_id, u.region, n.stretch,
         max(n.t1) - min(n.t0) AS length_s, min(n.day) AS first_day
  FROM numbered n JOIN unit u ON n.platform_id = u.platform_id AND n.worker_id = u.worker_id
  GROUP BY ALL
),
per_worker AS (
  SELECT platform_id, region, worker_id,
         sum(CASE WHEN length_s > 12 * 3600 THEN 1 ELSE 0 END) AS over_stretches,
         max(length_s) AS longest_s, min(first_day) AS first_day, max(first_day) AS last_day
  FROM stretches GROUP BY ALL
)
SELECT platform_id, region, count(*) AS workers,
       sum(CASE WHEN over_stretches > 0 THEN 1 ELSE 0 END) AS workers_over,
       sum(over_stretches) AS over_stretches, max(longest_s) AS longest_s,
       min(first_day) AS first_day, max(last_day) AS last_day
FROM per_worker
GROUP BY ALL
