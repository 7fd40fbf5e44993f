#pragma once

// How work is queued into the outbox: every enqueue is an
//   INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at) ...
// ending in VISITPAY_OUTBOX_ON_CONFLICT (string literals, so statements stay constants).
//
// At most one live (pending) item per session and kind. A live item that is waiting sees the new
// work when it runs. A live item that is claimed (lease_until set: its handler is running) may
// already have read what it works on, so the new work would end with it unseen: the item is
// marked `rerun`, and OutboxStore::complete then puts it back to pending, due at once, instead
// of done (migration 0021). The row lock this takes makes a completion that comes meanwhile wait
// for the enqueuing transaction, so the mark is never missed.

// The SET item for a conflict clause of its own (one that also changes something else).
#define VISITPAY_OUTBOX_RERUN_IF_CLAIMED "rerun = outbox.rerun OR outbox.lease_until IS NOT NULL"

#define VISITPAY_OUTBOX_ON_CONFLICT                             \
  "\nON CONFLICT (session_id, kind) WHERE status = 'pending'\n" \
  "DO UPDATE SET " VISITPAY_OUTBOX_RERUN_IF_CLAIMED             \
  "\n"                                                          \
  "WHERE outbox.lease_until IS NOT NULL"
