/* deposit.c: what the deposit function's replies mean. The function itself
 * is Lua in Redis's function library moneybank (k8s/redis-functions.lua,
 * loaded into Redis by k8s/redis-load-functions.sh, never by the programs:
 * their Redis user may only call it, with FCALL). One function serves plain
 * and keyed deposits, so both check the limit in the same atomic step as
 * the INCRBY.
 *
 * Every error reply means that nothing changed: the function declares no
 * flags, so Redis refuses it up front, before any of it runs, when its state
 * forbids writes (OOM with nothing left to evict, MISCONF, READONLY,
 * NOREPLICAS; scriptPrepareForRun in Redis 7.0 and later), as for INCRBY
 * itself; and it writes only after every check that can fail (the library
 * says how). */
#include "deposit.h"

/* The function's answers, the first element of its {answer, total} reply
 * (the same numbers as in k8s/redis-functions.lua). */
enum deposit_answer {
	DEPOSITED = 0,         /* the amount was added: {0, new total} */
	REPLAYED = 1,          /* the key was seen with this amount: {1, 0} */
	KEY_REUSED = 2,        /* the key was seen with another amount: {2, 0} */
	PAST_TOTAL_MAX = 3,    /* the total would pass TOTAL_MAX: {3, room},
	                          room the largest amount that fits, >= 0 */
	TOTAL_NOT_INTEGER = 4, /* the total is no integer, or no string */
	RECORD_DAMAGED = 5,    /* the key's record is no string, or never expires */
};

enum store_status deposit_outcome(const redisReply *reply, long long *total,
                                  bool *replayed)
{
	*replayed = false;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER)
		return STORE_UNKNOWN_OUTCOME;
	switch (reply->element[0]->integer) {
	case DEPOSITED:
		*total = reply->element[1]->integer;
		return STORE_OK;
	case REPLAYED:
		*replayed = true;
		return STORE_OK;
	case KEY_REUSED:
		return STORE_KEY_REUSED;
	case PAST_TOTAL_MAX:
		*total = reply->element[1]->integer;
		return STORE_TOTAL_LIMIT;
	case TOTAL_NOT_INTEGER:
		return STORE_NOT_INTEGER;
	case RECORD_DAMAGED:
		return STORE_RECORD_DAMAGED;
	default:
		return STORE_UNKNOWN_OUTCOME;
	}
}
