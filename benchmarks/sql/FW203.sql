-- FW203 engine phase, hand-written: every fee row with its predecessor in its
-- (platform, fee type, merchant category) chain and its notice in days
SELECT fee_id, platform_id, fee_type, merchant_category, rate_pct, amount_cny,
       announced_on, effective_from,
       date_diff('day', announced_on, effective_from) AS notice_days,
       lag(fee_id) OVER chain AS prev_fee_id,
       lag(rate_pct) OVER chain AS prev_rate_pct,
       lag(amount_cny) OVER chain AS prev_amount_cny,
       lag(effective_from) OVER chain AS prev_effective_from
FROM {fee_schedules}
WINDOW chain AS (PARTITION BY platform_id, fee_type, merchant_category
                 ORDER BY effective_from, announced_on, fee_id)
