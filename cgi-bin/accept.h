/* accept.h: content negotiation for GET /v1/bitcoins. */
#ifndef MONEYBANK_ACCEPT_H
#define MONEYBANK_ACCEPT_H

#include <stdbool.h>

/* Tells whether an Accept header prefers application/json to text/plain.
 * Ties go to text/plain, which every existing client expects. */
bool accept_prefers_json(const char *accept);

#endif
