/* outcome.c: answers a store operation that did not succeed. The answer
 * tells the client the truth about its request: 503 with Retry-After only
 * when nothing happened, 504 when a deposit may or may not have counted.
 * Bodies name no setting, key or host: those go to the log (store.c). */
#include "deposit.h"
#include "outcome.h"

/* How to answer one outcome: the HTTP status, for a 503 the seconds to
 * wait (Retry-After), and the reason. */
struct answer {
	int status;
	int retry_after_s;
	const char *reason;
};

/* Retry-After fits how long each state usually lasts:
 * - 1 s: Redis unreachable or silent; a restart or a blip passes in
 *   seconds, and a retry that finds it still down costs nothing.
 * - 5 s: LOADING replays the AOF (seconds for our data set); BUSY lasts
 *   until a script ends or is killed, past its 5 s busy-reply-threshold;
 *   other refusals, whose cause we do not know.
 * - 10 s: READONLY, MASTERDOWN: a failover or a Service that points at the
 *   wrong pod takes a readiness period or two to settle.
 * - 30 s: MISCONF, NOAUTH, WRONGPASS, NOPERM: an operator must fix the
 *   volume or the configuration, and a rollout takes that long at least.
 * - 60 s: OOM: with maxmemory-policy volatile-ttl it means nothing is left
 *   to evict; it lasts until an operator raises maxmemory. */
static const struct answer answers[] = {
	[STORE_OK] = { 503, 1, "Redis unavailable: it did not answer in time; try again shortly" },
	[STORE_UNAVAILABLE] = { 503, 1, "Redis unavailable: it could not be reached; nothing was changed; try again shortly" },
	[STORE_UNKNOWN_OUTCOME] = { 503, 1, "Redis unavailable: it did not answer in time; try again shortly" },
	[STORE_LOADING] = { 503, 5, "Redis unavailable: it is loading its data after a restart; nothing was changed; try again in a few seconds" },
	[STORE_BUSY] = { 503, 5, "Redis unavailable: it is busy with a long-running script; nothing was changed; try again in a few seconds" },
	[STORE_FULL] = { 503, 60, "Redis is full and refuses deposits until an operator makes room; nothing was changed; try again later" },
	[STORE_DISK_ERROR] = { 503, 30, "Redis cannot save to disk, so it refuses deposits until an operator repairs its storage; nothing was changed; try again later" },
	[STORE_READ_ONLY] = { 503, 10, "Redis refuses deposits: this server reached a read-only copy of the data; nothing was changed; try again shortly" },
	[STORE_PRIMARY_DOWN] = { 503, 10, "Redis unavailable: a copy of the data lost contact with its primary; nothing was changed; try again shortly" },
	[STORE_AUTH_REJECTED] = { 503, 30, "Redis unavailable: it rejected our credentials; nothing was changed; an operator must fix the configuration; try again later" },
	[STORE_NO_PERMISSION] = { 503, 30, "Redis unavailable: it does not permit this operation to our account; nothing was changed; an operator must fix its permissions; try again later" },
	[STORE_REFUSED] = { 503, 5, "Redis refused the operation; nothing was changed; try again later" },
	[STORE_TOTAL_LIMIT] = { 409, 0, "this deposit would take the total past " TOTAL_MAX_TEXT " (2^53-1), the most the bank holds so that every client reads it exactly; nothing was added" },
	[STORE_NOT_INTEGER] = { 500, 0, "the stored total is not an integer; nothing was changed; an operator must repair it" },
	[STORE_WRONG_TYPE] = { 500, 0, "a value stored on the server has an unexpected type; nothing was changed; an operator must repair it" },
	[STORE_RECORD_DAMAGED] = { 500, 0, "the record of this Idempotency-Key on the server is damaged, so a repeat cannot be ruled out; nothing was changed; an operator must repair it" },
	[STORE_KEY_REUSED] = { 422, 0, "this Idempotency-Key was already used with a different amount; nothing was added; use a new key for a new deposit" },
};

/* The answer to a deposit that was sent but got no reply: whether it
 * counted is unknown, so no Retry-After invites a blind retry. */
static const char unknown_deposit[] =
	"the outcome of this deposit is unknown: it reached Redis but no answer came in time, so it may have been added; "
	"retrying with the same Idempotency-Key is safe; without one, check the total before depositing again";

void reply_store_error(const struct request *request, enum store_status status)
{
	const struct answer *answer = &answers[status];

	if (status == STORE_UNKNOWN_OUTCOME && !request_is_read(request))
		reply_error(request, 504, unknown_deposit);
	else if (answer->status == 503)
		reply_retry_later(request, answer->retry_after_s, answer->reason);
	else
		reply_error(request, answer->status, answer->reason);
}
