/* deposit.h: a deposit is one Lua script that Redis runs atomically: it
 * checks the Idempotency-Key's record (when there is one), checks that the
 * total stays within TOTAL_MAX, adds the amount, and records the key. This
 * file holds the script and what its replies mean; store.c runs it. */
#ifndef MONEYBANK_DEPOSIT_H
#define MONEYBANK_DEPOSIT_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "store.h"

/* The largest total the bank holds: 2^53 - 1, so that JavaScript clients and
 * JSON readers, which hold numbers as doubles, see it exactly; as a number,
 * and as text for the script and the answers. */
#define TOTAL_MAX 9007199254740991LL
#define TOTAL_MAX_TEXT "9007199254740991"

/* The deposit script, for EVAL with the total's key, then the record's key
 * if any; ARGV: the amount, then the record's time to live in seconds. */
extern const char deposit_script[];

/* A script that does nothing but is declared as one that writes, for EVAL
 * with no keys: Redis refuses it up front in every state in which it would
 * refuse a deposit, and runs it (writing nothing) otherwise. */
extern const char deposit_probe_script[];

/* Reads the deposit script's reply: STORE_OK (with the new total, or with
 * *replayed set for a key seen before with the same amount),
 * STORE_KEY_REUSED, STORE_TOTAL_LIMIT (with *total set to the largest
 * amount that would still fit), STORE_NOT_INTEGER,
 * STORE_RECORD_DAMAGED; any reply of another shape leaves the outcome
 * unknown (STORE_UNKNOWN_OUTCOME): it may have been a deposit. */
enum store_status deposit_outcome(const redisReply *reply, long long *total,
                                  bool *replayed);

#endif
