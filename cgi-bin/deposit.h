/* deposit.h: a deposit is one Lua function that Redis runs atomically: it
 * checks the Idempotency-Key's record (when there is one), checks that the
 * total stays within TOTAL_MAX, adds the amount, and records the key. The
 * function lives in Redis (k8s/redis-functions.lua); this file names it and
 * says what its replies mean; store.c calls it. */
#ifndef MONEYBANK_DEPOSIT_H
#define MONEYBANK_DEPOSIT_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "store.h"

/* The largest total the bank holds: 2^53 - 1, so that JavaScript clients and
 * JSON readers, which hold numbers as doubles, see it exactly; as a number,
 * and as text for the answers. k8s/redis-functions.lua holds the same. */
#define TOTAL_MAX 9007199254740991LL
#define TOTAL_MAX_TEXT "9007199254740991"

/* The deposit function, for FCALL with the total's key, then the record's
 * key if any; arguments: the amount, then the record's time to live in
 * seconds. */
#define DEPOSIT_FUNCTION "deposit"

/* A function that does nothing but may write, for FCALL with no keys: Redis
 * refuses it up front in every state in which it would refuse a deposit,
 * and runs it (writing nothing, answering 1) otherwise. */
#define WRITABLE_FUNCTION "writable"

/* Reads the deposit function's reply: STORE_OK (with the new total, or with
 * *replayed set for a key seen before with the same amount),
 * STORE_KEY_REUSED, STORE_TOTAL_LIMIT (with *total set to the largest
 * amount that would still fit), STORE_NOT_INTEGER,
 * STORE_RECORD_DAMAGED; any reply of another shape leaves the outcome
 * unknown (STORE_UNKNOWN_OUTCOME): it may have been a deposit. */
enum store_status deposit_outcome(const redisReply *reply, long long *total,
                                  bool *replayed);

#endif
