/* healthz.c: the probes.
 *
 *   GET, HEAD /healthz  readiness: 200 "OK" when Redis would take a deposit
 *                       now (asked without writing anything), else 503
 *                       {"error":"..."} with the reason (unreachable,
 *                       silent, loading, busy, full, read-only, cannot
 *                       persist, refused our credentials, ...)
 *   GET, HEAD /livez    liveness: 200 "OK", without touching Redis, so a
 *                       Redis outage never restarts every backend
 *   other methods       405 with Allow */
#include <string.h>

#include "cgi.h"
#include "outcome.h"
#include "serve.h"
#include "store.h"

/* Answers 200 with the body "OK". */
static void reply_ok(const struct request *request)
{
	struct reply ok = { 200, "text/plain; charset=utf-8", "OK", NULL };

	reply_send(request, &ok);
}

/* Readiness: Redis must accept a deposit now. A PING would pass while
 * Redis refuses every write (out of memory, a read-only replica). */
static void check_redis(const struct request *request, struct store *store)
{
	enum store_status status = store_probe(store);

	if (status == STORE_OK)
		reply_ok(request);
	else
		reply_store_error(request, status);
}

/* The probe contract: liveness alone, or readiness through Redis. */
static void healthz(const struct request *request, struct store *store)
{
	if (!request_is_read(request))
		reply_not_allowed(request, "Allow: GET, HEAD");
	else if (strcmp(request->path, "/livez") == 0)
		reply_ok(request);
	else
		check_redis(request, store);
}

int main(void)
{
	return serve(healthz);
}
