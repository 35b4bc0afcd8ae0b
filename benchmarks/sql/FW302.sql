-- FW302 engine phase, hand-written: the same as AccountFarm.summarize (shared_identifier_links):
-- one row per account and identifier value held by at least two accounts of its platform
WITH links AS (
  SELECT DISTINCT platform_id, user_id, registered_at, kind, value FROM (
    SELECT platform_id, user_id, registered_at, 'device_hash' AS kind, device_hash AS value
    FROM {accounts} WHERE device_hash IS NOT NULL
    UNION ALL
    SELECT platform_id, user_id, registered_at, 'phone_hash', phone_hash
    FROM {accounts} WHERE phone_hash IS NOT NULL
    UNION ALL
    SELECT platform_id, user_id, registered_at, 'ip_prefix', ip_prefix
    FROM {accounts} WHERE ip_prefix IS NOT NULL
  )
)
SELECT platform_id, user_id, registered_at, kind, value
FROM links
QUALIFY count(user_id) OVER (PARTITION BY platform_id, kind, value) >= 2
