-- FW601 engine phase, hand-written: each entity-year with the previous year's counts
-- (for the 2022 window that starts on 1 January of the previous year)
SELECT d.entity_id, d.year, d.is_ciio, d.pi_individuals, d.sensitive_pi_individuals,
       d.important_data, d.mechanism, d.mechanism_valid_from, d.exemption,
       p.pi_individuals AS prev_pi_individuals,
       p.sensitive_pi_individuals AS prev_sensitive_pi_individuals
FROM {data_exports} AS d
LEFT JOIN {data_exports} AS p
  ON d.entity_id = p.entity_id AND d.year = p.year + 1
