/* outcome.h: the HTTP answer to each way a store operation can fail. */
#ifndef MONEYBANK_OUTCOME_H
#define MONEYBANK_OUTCOME_H

#include "cgi.h"
#include "store.h"

/* Answers a failed store operation with the status it deserves: 409, 422,
 * 500 (stored data an operator must repair), 503 with a Retry-After that fits
 * the state when the operation did not happen, and 504, for a deposit that
 * was sent without a reply, when it may have happened. */
void reply_store_error(const struct request *request, enum store_status status);

/* Answers 409 to a deposit that would take the total past TOTAL_MAX, with
 * room, the largest amount that still fits (0: none). */
void reply_total_limit(const struct request *request, long long room);

#endif
