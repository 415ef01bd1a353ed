WITH ev AS (
  SELECT
    e.contact_key AS k,
    COUNT(
      CASE
        WHEN (
          e.event = 'page_view' AND COALESCE(LOCATE('/pricing', LOWER(e.url)) > 0, FALSE)
        )
        AND e.ts >= CAST('2026-06-23 12:00:00.000000' AS TIMESTAMP)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        THEN 1
      END
    ) AS m1,
    COUNT(
      CASE
        WHEN (
          e.event = 'email_click' AND COALESCE(LOWER(e.topic) = 'hydraulics', FALSE)
        )
        AND e.ts >= CAST('2026-05-31 12:00:00.000000' AS TIMESTAMP)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        THEN 1
      END
    ) AS m2,
    COUNT(
      CASE
        WHEN e.event = 'purchase'
        AND e.ts >= CAST('2025-06-30 12:00:00.000000' AS TIMESTAMP)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        THEN 1
      END
    ) AS m3
  FROM events AS e
  WHERE
    e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
    AND NOT e.contact_key IS NULL
    AND e.event IN ('email_click', 'page_view', 'purchase')
    AND e.ts >= CAST('2025-06-30 12:00:00.000000' AS TIMESTAMP)
    AND (
      (
        e.event = 'page_view' AND e.ts >= CAST('2026-06-23 12:00:00.000000' AS TIMESTAMP)
      )
      OR (
        e.event = 'email_click'
        AND e.ts >= CAST('2026-05-31 12:00:00.000000' AS TIMESTAMP)
      )
      OR (
        e.event = 'purchase' AND e.ts >= CAST('2025-06-30 12:00:00.000000' AS TIMESTAMP)
      )
    )
  GROUP BY
    e.contact_key
)
SELECT
  c.contact_key AS member_key,
  c.contact_id AS member_id
FROM contacts AS c
LEFT JOIN ev
  ON ev.k = c.contact_key
WHERE
  (
    COALESCE(LOWER(c.lifecycle_stage) IN ('lead', 'mql'), FALSE)
    AND COALESCE(COALESCE(ev.m1, 0) >= 3, FALSE)
    AND COALESCE(COALESCE(ev.m2, 0) >= 1, FALSE)
    AND NOT (
      COALESCE(COALESCE(ev.m3, 0) >= 1, FALSE)
    )
  )
ORDER BY
  member_id
