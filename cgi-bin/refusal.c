/* refusal.c: sorts Redis's error replies by the state they report. The
 * first word of an error is its code (Redis 7 and 8 alike, and errors
 * raised inside a function keep it: "OOM command not allowed ... script: ...").
 * Every refusal means the command did not run: Redis checks a command (a
 * function that may write as a whole, before any of it runs) against its
 * state before running it, and once a function has written, it lets every
 * later command of that function run (deposit.c). */
#include <string.h>

#include "refusal.h"

/* An error code and the state it reports. */
struct refusal {
	const char *code;
	enum store_status status;
};

/* The codes of states a deployment meets (see the Redis sources:
 * server.c's shared error objects, and script.c for scripts). */
static const struct refusal refusals[] = {
	{ "LOADING", STORE_LOADING },
	{ "BUSY", STORE_BUSY },
	{ "OOM", STORE_FULL },
	{ "MISCONF", STORE_DISK_ERROR },
	{ "READONLY", STORE_READ_ONLY },
	{ "MASTERDOWN", STORE_PRIMARY_DOWN },
	{ "NOAUTH", STORE_AUTH_REJECTED },
	{ "WRONGPASS", STORE_AUTH_REJECTED },
	{ "NOPERM", STORE_NO_PERMISSION },
	{ "WRONGTYPE", STORE_WRONG_TYPE },
};

/* Tells whether the error starts with the code as a whole word. */
static bool has_code(const char *error, const char *code)
{
	size_t length = strlen(code);

	return strncmp(error, code, length) == 0 &&
	       (error[length] == ' ' || error[length] == '\0');
}

/* Sorts a generic "ERR ..." by its text: INCRBY's own refusals (the
 * deposit function checks the limit first, so an overflow cannot happen,
 * but it would be the same answer), an ACL refusal inside a function (Redis
 * 7: "The user executing the script can't run this command" or "can't
 * access at least one of the keys", Redis 8: "ACL failure in script"), and
 * an FCALL of a function Redis does not hold ("Function not found": our
 * library was never loaded, or was deleted). */
static enum store_status generic_status(const char *error)
{
	if (strstr(error, "increment or decrement would overflow") != NULL)
		return STORE_TOTAL_LIMIT;
	if (strstr(error, "value is not an integer") != NULL)
		return STORE_NOT_INTEGER;
	if (strstr(error, "ACL failure") != NULL ||
	    strstr(error, "can't run this command") != NULL ||
	    strstr(error, "can't access at least one of the keys") != NULL)
		return STORE_NO_PERMISSION;
	if (strstr(error, "Function not found") != NULL)
		return STORE_NO_FUNCTION;
	return STORE_REFUSED;
}

enum store_status refusal_status(const char *error)
{
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (has_code(error, refusals[i].code))
			return refusals[i].status;
	return generic_status(error);
}

const char *refusal_remedy(enum store_status status)
{
	switch (status) {
	case STORE_LOADING:
		return "Redis is loading its data set after a start; it answers once loaded";
	case STORE_BUSY:
		return "a script or function has run past busy-reply-threshold; it ends by itself, or an operator runs SCRIPT KILL or FUNCTION KILL";
	case STORE_FULL:
		return "Redis reached maxmemory with nothing it may evict; raise maxmemory (and the container's memory limit) or find what fills it";
	case STORE_DISK_ERROR:
		return "Redis cannot write its AOF or RDB (a full or read-only volume) and refuses writes until it can; free space or repair the volume";
	case STORE_READ_ONLY:
		return "REDIS_HOST leads to a read-only replica; point it at the primary";
	case STORE_PRIMARY_DOWN:
		return "REDIS_HOST leads to a replica that lost its primary; restore the link, or point REDIS_HOST at the primary";
	case STORE_AUTH_REJECTED:
		return "Redis refused our credentials; REDIS_USER and the password in REDIS_PASSWORD_FILE must be a user and password of its ACL file (scripts/lib/gen-redis-secret.sh)";
	case STORE_NO_PERMISSION:
		return "the Redis user (REDIS_USER) may not run this; its ACL must allow FCALL with the keys bitcoins and idempotency:*, GET and INCRBY on bitcoins, and GET, SET and PTTL on idempotency:* (scripts/lib/gen-redis-secret.sh)";
	case STORE_NO_FUNCTION:
		return "Redis lacks the function library moneybank (k8s/redis-functions.lua) that deposits and /healthz call; "
		       "under Kubernetes the Redis pod's readiness probe loads it within seconds; elsewhere load it as admin: "
		       "k8s/redis-load-functions.sh k8s/redis-functions.lua ADMIN_PASSWORD_FILE --user admin -h HOST -p PORT";
	case STORE_NOT_INTEGER:
		return "the key bitcoins holds something other than an integer; as admin (" REDIS_ADMIN_CLI "), read it (GET bitcoins), then write the right total (SET bitcoins N)";
	case STORE_WRONG_TYPE:
		return "a key holds another type than the command expects; as admin (" REDIS_ADMIN_CLI "), find it (TYPE bitcoins), then repair it";
	case STORE_TOTAL_LIMIT:
		return "the deposit would take the total past 2^53-1";
	default:
		return "Redis refused the command, which did not run; its error says why";
	}
}
