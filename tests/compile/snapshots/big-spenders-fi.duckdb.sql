WITH ev AS (
  SELECT
    e.contact_key AS k,
    SUM(
      CASE
        WHEN e.event = 'purchase'
        AND e.ts >= CAST('2025-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
        AND e.ts <= CAST('2026-05-31 12:00:00.000000+00:00' AS TIMESTAMPTZ)
        THEN e.amount
      END
    ) AS m1,
    MIN(
      CASE
        WHEN e.event = 'content_download'
        AND COALESCE(LOWER(e.properties ->> '$.product.family') = 'hydraulics', FALSE)
        THEN e.ts
      END
    ) AS m2,
    COUNT(
      CASE
        WHEN (
          e.event = 'content_download'
          AND COALESCE(LOWER(e.properties ->> '$.product.family') = 'hydraulics', FALSE)
        )
        AND e.ts >= CAST('2026-06-16 12:00:00.000000+00:00' AS TIMESTAMPTZ)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
        THEN 1
      END
    ) AS m3
  FROM events AS e
  WHERE
    e.ts <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
    AND NOT e.contact_key IS NULL
    AND e.event IN ('content_download', 'purchase')
    AND (
      (
        e.event = 'purchase'
        AND e.ts >= CAST('2025-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ)
      )
      OR e.event = 'content_download'
    )
  GROUP BY
    e.contact_key
)
SELECT
  c.contact_key AS member_key,
  c.contact_id AS member_id
FROM contacts AS c
LEFT JOIN companies AS co
  ON co.company_key = c.company_key
LEFT JOIN ev
  ON ev.k = c.contact_key
WHERE
  (
    (
      COALESCE(LOWER(c.country) = 'fi', FALSE)
      AND COALESCE(co.employees BETWEEN 50 AND 500, FALSE)
    )
    OR COALESCE(COALESCE(ev.m1, 0) >= 1000, FALSE)
    OR (
      COALESCE(
        ev.m2 >= CAST('2026-06-16 12:00:00.000000+00:00' AS TIMESTAMPTZ)
        AND ev.m2 <= CAST('2026-06-30 12:00:00.000000+00:00' AS TIMESTAMPTZ),
        FALSE
      )
      AND COALESCE(COALESCE(ev.m3, 0) >= 1, FALSE)
    )
  )
ORDER BY
  member_id
