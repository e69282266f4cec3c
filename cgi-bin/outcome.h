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

#endif
