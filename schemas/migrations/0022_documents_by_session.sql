-- visitpay 0022: every document of a session (invoice and credit notes) found by its session.
--
-- The purge rule bookkeeping_period_ended asks, per invoiced session, whether any of its
-- documents was issued within the bookkeeping period. The only index on invoices.session_id
-- (invoices_one_per_session) covers invoices, not credit notes, so that question scanned the
-- whole table once per session whenever the planner chose a nested loop (as it does while the
-- statistics still describe a small table): 2.4 s per purge pass over 9,000 sessions, measured in
-- tests/bench/sweep_bench.sh. With this index each session costs one index probe.
CREATE INDEX invoices_by_session ON invoices (session_id);
