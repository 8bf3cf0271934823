-- Percentiles (milliseconds) of every stage per run, by the order's outcome when asked.
SELECT
    s.run_id,
    s.stage,
    CASE WHEN $by_outcome THEN s.outcome END AS outcome,
    count(*) AS n,
    quantile_cont(s.ms, 0.5) AS p50_ms,
    quantile_cont(s.ms, 0.95) AS p95_ms,
    quantile_cont(s.ms, 0.99) AS p99_ms
FROM latency_samples AS s
JOIN runs AS r USING (run_id)
GROUP BY ALL
ORDER BY any_value(r.run_no), any_value(s.stage_no), outcome NULLS FIRST
