-- Why orders were never assigned (their last error) and why attempts failed, per run.
-- An attempt's reason is its own error when the run recorded one, else the order's last
-- error for the final attempt of an order never assigned, else '(not recorded)'.
WITH failures AS (
    SELECT run_id, 'never_assigned' AS kind, coalesce(last_error, '(not recorded)') AS reason
    FROM orders
    WHERE outcome = 'never_assigned'
    UNION ALL
    SELECT
        l.run_id,
        'failed_attempt' AS kind,
        coalesce(
            l.error,
            CASE WHEN o.outcome = 'never_assigned' AND l.attempt = o.attempts THEN o.last_error END,
            '(not recorded)'
        ) AS reason
    FROM latency AS l
    LEFT JOIN orders AS o USING (run_id, order_id)
    WHERE NOT l.assigned
)
SELECT
    f.run_id,
    f.kind,
    f.reason,
    count(*) AS n,
    count(*) / sum(count(*)) OVER (PARTITION BY f.run_id, f.kind) AS share
FROM failures AS f
JOIN runs AS r USING (run_id)
GROUP BY f.run_id, f.kind, f.reason
ORDER BY any_value(r.run_no), f.kind DESC, n DESC, f.reason
