/* store.h: the bitcoin total in Redis. Every change is one atomic Redis
 * function in Redis (deposit.c), so concurrent deposits on any number of replicas all
 * count, and none takes the total past its limit. */
#ifndef MONEYBANK_STORE_H
#define MONEYBANK_STORE_H

#include <stdbool.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "resolve.h"

/* What became of a store operation. Apart from STORE_OK, each says whether
 * the command ran: only STORE_UNKNOWN_OUTCOME leaves that open. */
enum store_status {
	STORE_OK,
	STORE_UNAVAILABLE,     /* no connection, or the command was not all
	                          sent: it did not run */
	STORE_UNKNOWN_OUTCOME, /* sent, but no reply came in time (or none we
	                          understand): it may have run */
	STORE_LOADING,         /* LOADING: Redis is loading its data set */
	STORE_BUSY,            /* BUSY: a script or function holds Redis */
	STORE_FULL,            /* OOM: maxmemory reached, nothing to evict */
	STORE_DISK_ERROR,      /* MISCONF: Redis cannot persist, refuses writes */
	STORE_READ_ONLY,       /* READONLY: we reached a replica */
	STORE_PRIMARY_DOWN,    /* MASTERDOWN: a replica that lost its primary */
	STORE_AUTH_REJECTED,   /* NOAUTH, WRONGPASS: our credentials are wrong */
	STORE_NO_PERMISSION,   /* NOPERM: our Redis user may not run it */
	STORE_NO_FUNCTION,     /* Redis lacks our function library */
	STORE_REFUSED,         /* any other error reply: it did not run */
	STORE_TOTAL_LIMIT,     /* the total would pass TOTAL_MAX (deposit.h);
	                          nothing changed */
	STORE_NOT_INTEGER,     /* the stored total is not an integer */
	STORE_WRONG_TYPE,      /* WRONGTYPE: a key holds another type */
	STORE_RECORD_DAMAGED,  /* an idempotency key's record is no string, or
	                          has no expiry */
	STORE_KEY_REUSED,      /* an idempotency key came back with another amount */
};

/* A connection to Redis, opened on first use and kept until it fails, so
 * that a FastCGI process reuses it and a CGI opens one only when needed. */
struct store {
	const struct config *config;
	redisContext *redis;
	bool authenticated;
	struct address_list addresses;  /* where REDIS_HOST is; none: unknown */
	struct timespec deadline;       /* when the current operation gives up */
	struct timespec quiet_until;    /* after a failure: no new try before */
	bool queued;                    /* the request in hand waited in line */
};

/* Prepares a store; no connection is made yet. */
void store_init(struct store *store, const struct config *config);

/* Tells the store whether the request in hand waited in line behind
 * others (FastCGI): after Redis failed to answer, such requests are
 * answered "unavailable" at once for REDIS_TIMEOUT_MS (store.c). */
void store_set_queued(struct store *store, bool queued);

/* Closes the connection, if any. */
void store_close(struct store *store);

/* Checks, without writing anything, that Redis would accept a deposit now:
 * it calls a function that may write (but does not), which Redis refuses up
 * front when it would refuse writes (full, read-only, cannot persist), and
 * which our Redis user must be allowed to run, and which Redis must hold
 * (its function library, k8s/redis-functions.lua). */
enum store_status store_probe(struct store *store);

/* Reads the total; a total never written is 0. */
enum store_status store_total(struct store *store, long long *total);

/* Adds amount to the total unless that would take it past TOTAL_MAX
 * (STORE_TOTAL_LIMIT, with *total set to the largest amount that would
 * still fit), and returns the new total. With an idempotency key
 * (NULL: none) it adds it once per key: a key seen before with the same
 * amount sets *replayed and changes nothing; with another amount it gives
 * STORE_KEY_REUSED. The checks, the deposit and the record are one Lua
 * function, so concurrent retries on different replicas count once. */
enum store_status store_deposit(struct store *store, const char *key,
                                long long amount, long long *total,
                                bool *replayed);

#endif
