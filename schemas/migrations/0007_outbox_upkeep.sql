-- visitpay 0007: retry budgets as time horizons, and upkeep of finished outbox rows.
-- failing_since: when the item's current run of failures began (NULL while it is fine or
-- deliberately waiting). An item goes to the dead letters once now - failing_since reaches its
-- kind's budget (outbox.budgets), however many attempts that took.
ALTER TABLE outbox ADD COLUMN failing_since timestamptz;

-- What the janitor scans: finished rows by age. Dead rows are kept for ops.
CREATE INDEX outbox_finished ON outbox (updated_at) WHERE status IN ('done', 'cancelled');
