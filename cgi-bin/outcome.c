/* outcome.c: answers a store operation that did not succeed. The answer
 * tells the client the truth about its request: 503 with Retry-After only
 * when nothing happened, 504 when a deposit may or may not have counted.
 * Each body says what became of the request and what the client should
 * do; it names no component, setting, key or host: those go to the log,
 * with the remedy (store.c, refusal.c). */
#include <stdio.h>

#include "deposit.h"
#include "outcome.h"

/* Room for a long long in decimal. */
#define NUMBER_TEXT_MAX 24

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
 * - 30 s: MISCONF, NOAUTH, WRONGPASS, NOPERM, a missing function library:
 *   an operator must fix the volume or the configuration, and a rollout
 *   (or the Redis pod's next readiness probe) takes that long at least.
 * - 60 s: OOM: with maxmemory-policy volatile-ttl it means nothing is left
 *   to evict; it lasts until an operator raises maxmemory. */
/* The advice the answers end with: when to try again, and, for states an
 * operator must end, to tell one. */
#define AFTER_RETRY_AFTER "try again after the seconds in Retry-After"
#define TELL_OPERATOR ", and tell the bank's operator if it persists"

static const struct answer answers[] = {
	[STORE_OK] = { 503, 1, "the bank's storage did not answer in time; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_UNAVAILABLE] = { 503, 1, "the bank's storage could not be reached; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_UNKNOWN_OUTCOME] = { 503, 1, "the bank's storage did not answer in time; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_LOADING] = { 503, 5, "the bank's storage is loading its data after a restart; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_BUSY] = { 503, 5, "the bank's storage is busy with a long task; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_FULL] = { 503, 60, "the bank's storage is full and takes no deposits until an operator makes room; nothing was changed; " AFTER_RETRY_AFTER TELL_OPERATOR },
	[STORE_DISK_ERROR] = { 503, 30, "the bank's storage cannot save, so it takes no deposits until an operator repairs it; nothing was changed; " AFTER_RETRY_AFTER TELL_OPERATOR },
	[STORE_READ_ONLY] = { 503, 10, "the bank's storage takes no deposits here: this server reached a read-only copy; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_PRIMARY_DOWN] = { 503, 10, "the bank's storage is unavailable: a copy of the data lost contact with the original; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_AUTH_REJECTED] = { 503, 30, "the bank's storage refused this server's access; nothing was changed; " AFTER_RETRY_AFTER TELL_OPERATOR },
	[STORE_NO_PERMISSION] = { 503, 30, "the bank's storage does not permit this operation to this server; nothing was changed; " AFTER_RETRY_AFTER TELL_OPERATOR },
	[STORE_NO_FUNCTION] = { 503, 30, "the bank's storage is not set up to take this operation; nothing was changed; " AFTER_RETRY_AFTER TELL_OPERATOR },
	[STORE_REFUSED] = { 503, 5, "the bank's storage refused the operation; nothing was changed; " AFTER_RETRY_AFTER },
	[STORE_TOTAL_LIMIT] = { 409, 0, "the bank cannot hold more: its total may not pass " TOTAL_MAX_TEXT "; nothing was added; deposit a smaller amount" },
	[STORE_NOT_INTEGER] = { 500, 0, "the bank's stored total is damaged; nothing was changed; try again later" TELL_OPERATOR },
	[STORE_WRONG_TYPE] = { 500, 0, "data the bank stores is damaged; nothing was changed; try again later" TELL_OPERATOR },
	[STORE_RECORD_DAMAGED] = { 500, 0, "the bank's record of this Idempotency-Key is damaged, so a repeat cannot be ruled out; nothing was added; try again later" TELL_OPERATOR },
	[STORE_KEY_REUSED] = { 422, 0, "this Idempotency-Key was already used with a different amount; nothing was added; use a new key for a new deposit" },
};

/* The answer to a deposit that was sent but got no reply: whether it
 * counted is unknown, so no Retry-After invites a blind retry. */
static const char unknown_deposit[] =
	"no answer came in time, so this deposit may or may not have been added; "
	"retry it with the same Idempotency-Key, which is then safe; without one, check the total before depositing again";

/* The answers to a deposit that does not fit under TOTAL_MAX: with the
 * largest amount that still fits, or none when the total is there. */
#define LIMIT_ROOM \
	"the bank cannot hold more: its total may not pass " TOTAL_MAX_TEXT "; nothing was added; " \
	"deposit a smaller amount: at most %lld fits now"
#define LIMIT_REACHED \
	"the bank cannot hold more: its total is at the most it may hold, " TOTAL_MAX_TEXT "; nothing was added; " \
	"send no more deposits, and tell the bank's operator"

void reply_total_limit(const struct request *request, long long room)
{
	char message[sizeof(LIMIT_ROOM) + NUMBER_TEXT_MAX];

	if (room <= 0) {
		reply_error(request, 409, LIMIT_REACHED);
		return;
	}
	snprintf(message, sizeof(message), LIMIT_ROOM, room);
	reply_error(request, 409, message);
}

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
