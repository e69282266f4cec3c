/* deposit.c: the deposit script and its replies. One script serves plain and
 * keyed deposits, so both check the limit in the same atomic step as the
 * INCRBY. It is sent whole with EVAL, never EVALSHA: Redis caches it by its
 * SHA-1 either way, EVAL needs no second round trip after a NOSCRIPT (a
 * restarted Redis, SCRIPT FLUSH), and its extra cost, about 700 bytes sent
 * and hashed per deposit, is lost next to a CGI's fork and exec.
 *
 * Every error reply means that nothing changed:
 * - "#!lua" declares a script that writes: Redis then refuses it up front,
 *   before any of it runs, when its state forbids writes (OOM with nothing
 *   left to evict, MISCONF, READONLY, NOREPLICAS; Redis 7.0 and later,
 *   scriptPrepareForRun and processCommand), as for INCRBY itself;
 * - the reads that precede the first write can fail only on an ACL
 *   (their WRONGTYPE is an answer, not an error: see below);
 * - INCRBY is the first write: it fails whole or not at all;
 * - once a script has written, Redis lets its later writes run whatever its
 *   state, and only an ACL can still refuse the SET of the record, so that
 *   is checked (redis.acl_check_cmd) before the INCRBY. */
#include "deposit.h"

/* The script's answers, the first element of its {answer, total} reply. */
enum deposit_answer {
	DEPOSITED = 0,         /* the amount was added: {0, new total} */
	REPLAYED = 1,          /* the key was seen with this amount: {1, 0} */
	KEY_REUSED = 2,        /* the key was seen with another amount: {2, 0} */
	PAST_TOTAL_MAX = 3,    /* the total would pass TOTAL_MAX: {3, room},
	                          room the largest amount that fits, >= 0 */
	TOTAL_NOT_INTEGER = 4, /* the total is no integer, or no string */
	RECORD_DAMAGED = 5,    /* the key's record is no string, or never expires */
};

/* read() returns a key's value (false when there is none), or nil and true
 * when the key holds another type than a string: only our scripts write these
 * keys, so that is damage for an operator to repair, not a refusal. Any other
 * error (an ACL) is raised as it came. A record with no expiry (PTTL -1) is
 * damaged too: this script always sets one, so only a direct SET, which the
 * app's credentials can send, makes such a record, and honouring it would
 * answer a real deposit with that key "already done" for ever. The limit is
 * compared as amount > room, the room left being TOTAL_MAX - total, which
 * Lua's doubles hold exactly for a total from 0 to TOTAL_MAX (elsewhere they
 * round only far from any amount we accept). A deposit that does not fit
 * gets the room back, so that the client learns the largest amount that
 * still does. */
const char deposit_script[] =
	"#!lua\n"
	"local function read(key)\n"
	"  local value = redis.pcall('GET', key)\n"
	"  if type(value) ~= 'table' then return value end\n"
	"  if string.find(value.err, '^WRONGTYPE') then return nil, true end\n"
	"  return error(value)\n"
	"end\n"
	"if KEYS[2] then\n"
	"  local seen, damaged = read(KEYS[2])\n"
	"  if damaged then return {5, 0} end\n"
	"  if seen then\n"
	"    if redis.call('PTTL', KEYS[2]) == -1 then return {5, 0} end\n"
	"    if seen == ARGV[1] then return {1, 0} end\n"
	"    return {2, 0}\n"
	"  end\n"
	"  if not redis.acl_check_cmd('SET', KEYS[2], ARGV[1], 'EX', ARGV[2]) then\n"
	"    return redis.error_reply('NOPERM this user may not record idempotency keys')\n"
	"  end\n"
	"end\n"
	"local stored, wrong_type = read(KEYS[1])\n"
	"if wrong_type or (stored and not string.find(stored, '^%-?%d+$')) then\n"
	"  return {4, 0}\n"
	"end\n"
	"local room = " TOTAL_MAX_TEXT " - tonumber(stored or '0')\n"
	"if tonumber(ARGV[1]) > room then\n"
	"  return {3, math.max(room, 0)}\n"
	"end\n"
	"local total = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
	"if KEYS[2] then redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2]) end\n"
	"return {0, total}\n";

const char deposit_probe_script[] = "#!lua\nreturn 1\n";

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
