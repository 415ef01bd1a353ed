WITH ev AS (
  SELECT
    k,
    SUM(v1) AS m1,
    MIN(v2) AS m2
  FROM (
    SELECT
      e.contact_key AS k,
      e.amount AS v1,
      CAST(NULL AS TIMESTAMPTZ) AS v2
    FROM events AS e
    WHERE
      e.ts <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND NOT e.contact_key IS NULL
      AND e.event = 'purchase'
      AND e.ts >= CAST('2025-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND e.ts <= CAST('2026-05-31 12:00:00.000000+00:00' AS TIMESTAMPTZ)
    UNION ALL
    SELECT
      e.contact_key AS k,
      CAST(NULL AS DOUBLE) AS v1,
      e.ts AS v2
    FROM events AS e
    WHERE
      e.ts <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
      AND NOT e.contact_key IS NULL
      AND e.event = 'content_download'
      AND COALESCE(LOWER(e.properties ->> '$.product.family') = 'hydraulics', FALSE)
  ) AS u
  GROUP BY
    k
)
SELECT
  c.contact_key AS member_key,
  c.contact_id AS member_id
FROM contacts AS c
LEFT JOIN companies AS co
  ON co.company_key = c.company_key
WHERE
  (
    (
      COALESCE(LOWER(c.country) = 'fi', FALSE)
      AND COALESCE(co.employees BETWEEN 50 AND 500, FALSE)
    )
    OR c.contact_key IN (
      SELECT
        k
      FROM ev
      WHERE
        COALESCE(COALESCE(ev.m1, 0) >= 1000, FALSE)
        OR COALESCE(
          ev.m2 >= CAST('2026-06-16 12:00:00.000000+00:00' AS TIMESTAMPTZ)
          AND ev.m2 <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ),
          FALSE
        )
    )
  )
ORDER BY
  member_id
