WITH ev_req AS (
  SELECT
    k,
    m1
  FROM (
    SELECT
      k,
      COUNT(v1) AS m1
    FROM (
      SELECT
        e.contact_key AS k,
        1 AS v1
      FROM events AS e
      WHERE
        e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        AND NOT e.contact_key IS NULL
        AND e.event = 'page_view'
        AND COALESCE(LOCATE('/pricing', LOWER(e.url)) > 0, FALSE)
        AND e.ts >= CAST('2026-06-23 12:00:00.000000' AS TIMESTAMP)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
    ) AS u
    GROUP BY
      k
  ) AS ev
  WHERE
    COALESCE(COALESCE(ev.m1, 0) >= 3, FALSE)
), ev AS (
  SELECT
    d.k,
    d.m1,
    r.m2,
    r.m3
  FROM ev_req AS d
  LEFT JOIN (
    SELECT
      k,
      COUNT(v2) AS m2,
      COUNT(v3) AS m3
    FROM (
      SELECT
        e.contact_key AS k,
        1 AS v2,
        CAST(NULL AS BIGINT) AS v3
      FROM events AS e
      WHERE
        e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        AND NOT e.contact_key IS NULL
        AND e.event = 'email_click'
        AND COALESCE(LOWER(e.topic) = 'hydraulics', FALSE)
        AND e.ts >= CAST('2026-05-31 12:00:00.000000' AS TIMESTAMP)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        AND e.contact_key IN (
          SELECT
            k
          FROM ev_req
        )
      UNION ALL
      SELECT
        e.contact_key AS k,
        CAST(NULL AS BIGINT) AS v2,
        1 AS v3
      FROM events AS e
      WHERE
        e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        AND NOT e.contact_key IS NULL
        AND e.event = 'purchase'
        AND e.ts >= CAST('2025-06-30 12:00:00.000000' AS TIMESTAMP)
        AND e.ts <= CAST('2026-06-30 12:00:00.000000' AS TIMESTAMP)
        AND e.contact_key IN (
          SELECT
            k
          FROM ev_req
        )
    ) AS u
    GROUP BY
      k
  ) AS r
    ON r.k = d.k
)
SELECT
  c.contact_key AS member_key,
  c.contact_id AS member_id
FROM contacts AS c
INNER JOIN ev
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
