-- Every stage measurement (milliseconds) with its order and the order's outcome.
SELECT s.run_id, s.stage, s.ms, s.order_id, s.attempt, s.assigned, s.outcome
FROM latency_samples AS s
JOIN runs AS r USING (run_id)
ORDER BY r.run_no, s.stage_no, s.order_id, s.attempt
