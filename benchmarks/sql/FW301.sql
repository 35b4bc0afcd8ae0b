-- FW301 engine phase, hand-written: the same aggregation as ReviewRing.summarize
-- (one edge of the review graph per account, store and China local day)
SELECT platform_id, user_id, merchant_id,
       CAST(ts + INTERVAL 8 HOUR AS DATE) AS day,
       count(*) AS reviews,
       sum(CASE WHEN order_id IS NULL THEN 1 ELSE 0 END) AS without_order,
       sum(rating) AS rating_sum,
       min(ts) AS first_ts
FROM {reviews}
GROUP BY ALL
