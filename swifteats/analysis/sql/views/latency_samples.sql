-- One row per measured stage, with the order's outcome; ``stage_no`` is pipeline order and
-- the names are those of swifteats.analysis.latency.STAGES. Every answered attempt gives
-- its in-process stages and, in live runs, its wall-clock hops (end_to_end only on a
-- first attempt: a retry was not accepted again). A live run whose attempts lack the hops
-- gives them per order instead, from the instants of the order's last attempt.
CREATE VIEW latency_samples AS
WITH attempt_stages AS (
    SELECT l.run_id, l.order_id, l.attempt, l.assigned, s.stage_no, s.stage, s.ms
    FROM latency AS l,
        LATERAL (VALUES
            (1, 'answer', l.answer_ms),
            (2, 'search', l.search_ms),
            (3, 'scoring', l.scoring_ms),
            (4, 'claim', l.claim_ms),
            (5, 'total', l.total_ms),
            (6, 'publish', l.accepted_to_request_published_ms),
            (7, 'request_queue', l.request_published_to_request_consumed_ms),
            (8, 'decide', l.request_consumed_to_decided_ms),
            (9, 'response_queue', l.decided_to_response_consumed_ms),
            (10, 'end_to_end', l.accepted_to_request_published_ms
                + l.request_published_to_request_consumed_ms
                + l.request_consumed_to_decided_ms
                + l.decided_to_response_consumed_ms)
        ) AS s (stage_no, stage, ms)
),
runs_with_hops AS (
    SELECT DISTINCT run_id FROM attempt_stages WHERE stage_no >= 6 AND ms IS NOT NULL
),
order_stages AS (
    SELECT
        o.run_id,
        o.order_id,
        o.attempts AS attempt,
        o.outcome = 'delivered' AS assigned,
        s.stage_no,
        s.stage,
        date_diff('microsecond', s.since, s.until) / 1000.0 AS ms
    FROM orders AS o,
        LATERAL (VALUES
            (6, 'publish', if(o.attempts = 1, o.accepted_at, NULL), o.request_published_at),
            (7, 'request_queue', o.request_published_at, o.request_consumed_at),
            (8, 'decide', o.request_consumed_at, o.decided_at),
            (9, 'response_queue', o.decided_at, o.response_consumed_at),
            (10, 'end_to_end', if(o.attempts = 1, o.accepted_at, NULL), o.response_consumed_at)
        ) AS s (stage_no, stage, since, until)
    WHERE o.run_id NOT IN (SELECT run_id FROM runs_with_hops)
)
SELECT x.run_id, x.stage_no, x.stage, x.ms, x.order_id, x.attempt, x.assigned, o.outcome
FROM (SELECT * FROM attempt_stages UNION ALL SELECT * FROM order_stages) AS x
LEFT JOIN orders AS o USING (run_id, order_id)
WHERE x.ms IS NOT NULL;
