-- FW204 engine phase, hand-written: rule changes that may break the notice (< 7 days, the
-- longest notice the law has required) or the consultation rule
SELECT change_id, platform_id, title, announced_on, effective_on, consultation_from,
       date_diff('day', announced_on, effective_on) AS notice_days
FROM {rule_changes}
WHERE coalesce(date_diff('day', announced_on, effective_on) < 7
               OR consultation_from IS NULL
               OR consultation_from > announced_on, true)
