/* refusal.h: Redis's error replies, sorted into the states they report. An
 * error reply means Redis refused the command: it did not run (our deposit
 * function can only fail before its first write, see deposit.c). */
#ifndef MONEYBANK_REFUSAL_H
#define MONEYBANK_REFUSAL_H

#include "store.h"

/* Returns the state an error reply ("OOM command not allowed...") reports.
 * Errors raised inside a function carry the same code, and unknown ones give
 * STORE_REFUSED. */
enum store_status refusal_status(const char *error);

/* How an operator reaches Redis as its admin user (scripts/
 * gen-redis-secret.sh), for the remedies in the log; under Kubernetes,
 * through kubectl -n NAMESPACE exec -i redis-0 --. */
#define REDIS_ADMIN_CLI "redis-cli --user admin --askpass"

/* Returns, for the operator's log, what the state means and what fixes it.
 * It may name settings and keys: it never reaches a client. */
const char *refusal_remedy(enum store_status status);

#endif
