-- FW501 engine phase, hand-written: the same aggregation as InfeasibleDeliveryTimes.summarize
-- (riding speed 25 km/h everywhere, pickup allowance 5 min: the parameters' current values)
WITH t AS (
  SELECT platform_id, region_code, promised_minutes, pay_cny,
         coalesce(deduction_cny, 0) AS deduction,
         delivered_at IS NOT NULL AS delivered,
         (promised_minutes - 5.0) * 25 * 1000 < distance_m * 60 AS infeasible,
         delivered_at IS NOT NULL
           AND floor(epoch(delivered_at)) - floor(epoch(dispatched_at)) > promised_minutes * 60 AS late,
         CAST(dispatched_at + INTERVAL 8 HOUR AS DATE) AS day
  FROM {deliveries}
  WHERE promised_minutes IS NOT NULL AND distance_m IS NOT NULL
    AND region_code IS NOT NULL AND dispatched_at IS NOT NULL
)
SELECT platform_id, region_code, promised_minutes,
       count(*) AS tasks,
       sum(CASE WHEN infeasible THEN 1 ELSE 0 END) AS infeasible,
       sum(CASE WHEN delivered THEN 1 ELSE 0 END) AS delivered,
       sum(CASE WHEN late THEN 1 ELSE 0 END) AS late,
       sum(CASE WHEN late AND deduction > 0 THEN 1 ELSE 0 END) AS late_deducted,
       sum(CASE WHEN late THEN deduction ELSE 0 END) AS late_deduction_cny,
       sum(CASE WHEN infeasible AND deduction > 0 THEN 1 ELSE 0 END) AS infeasible_deducted,
       sum(CASE WHEN infeasible THEN deduction ELSE 0 END) AS infeasible_deduction_cny,
       sum(deduction) AS deduction_cny,
       sum(pay_cny) AS pay_cny,
       min(day) AS first_day, max(day) AS last_day
FROM t
GROUP BY ALL
