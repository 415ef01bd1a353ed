WITH ev AS (
  SELECT
    k,
    COUNT(v1) AS m1
  FROM (
    SELECT
      ct.company_key AS k,
      1 AS v1
    FROM events AS e
    JOIN contacts AS ct
      ON ct.contact_key = e.contact_key
    WHERE
      e.ts <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND NOT ct.company_key IS NULL
      AND TRUE
      AND e.ts >= CAST('2026-01-01 00:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND e.ts <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
  ) AS u
  GROUP BY
    k
)
SELECT
  co.company_key AS member_key,
  co.company_id AS member_id
FROM companies AS co
INNER JOIN ev
  ON ev.k = co.company_key
WHERE
  (
    COALESCE(co.employees >= 100, FALSE)
    AND COALESCE(COALESCE(ev.m1, 0) >= 10, FALSE)
  )
ORDER BY
  member_id
