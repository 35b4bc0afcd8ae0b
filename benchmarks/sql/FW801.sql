-- FW801 engine phase, hand-written: the same aggregation as ComplaintSurge.summarize
-- (serial: >= 10 merchants; templated: >= 5 identical texts, >= 2 per id: current values)
WITH c AS (
  SELECT complaint_id, ts, complainant_id, platform_id, merchant_id,
         CAST(ts + INTERVAL 8 HOUR AS DATE) AS day, trim(text) AS text_key
  FROM {complaints}
  WHERE merchant_id IS NOT NULL AND complainant_id IS NOT NULL
),
serial AS (
  SELECT complainant_id AS serial_id FROM c GROUP BY complainant_id
  HAVING count(DISTINCT merchant_id) >= 10
),
templated AS (
  SELECT merchant_id AS t_merchant, text_key AS t_text FROM c
  WHERE text_key IS NOT NULL AND length(text_key) > 0
  GROUP BY merchant_id, text_key
  HAVING count(*) >= 5 AND count(*) >= 2 * count(DISTINCT complainant_id)
),
flagged AS (
  SELECT c.*, s.serial_id IS NOT NULL AS is_serial, t.t_merchant IS NOT NULL AS is_templated,
         row_number() OVER (PARTITION BY c.merchant_id, c.complainant_id
                            ORDER BY c.ts, c.complaint_id) - 1 AS "order"
  FROM c
  LEFT JOIN serial s ON c.complainant_id = s.serial_id
  LEFT JOIN templated t ON c.merchant_id = t.t_merchant AND c.text_key = t.t_text
),
daily AS (
  SELECT merchant_id, day, max(platform_id) AS platform_id, count(*) AS complaints,
         sum(CASE WHEN NOT is_serial AND NOT is_templated AND "order" = 0 THEN 1 ELSE 0 END) AS counted,
         sum(CASE WHEN is_serial THEN 1 ELSE 0 END) AS serial,
         sum(CASE WHEN is_templated THEN 1 ELSE 0 END) AS templated,
         sum(CASE WHEN NOT is_serial AND NOT is_templated AND "order" > 0 THEN 1 ELSE 0 END) AS repeat
  FROM flagged
  GROUP BY ALL
)
SELECT d.merchant_id, d.day, coalesce(m.platform_id, d.platform_id) AS platform_id,
       d.complaints, d.counted, d.serial, d.templated, d.repeat,
       coalesce(m.category, '(unknown)') AS sector, m.opened_on, m.closed_on
FROM daily d
LEFT JOIN {merchants} m ON d.merchant_id = m.merchant_id
