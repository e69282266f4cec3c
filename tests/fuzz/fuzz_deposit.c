/* fuzz_deposit.c: libFuzzer harness for deposit_outcome(), which reads the
 * deposit function's reply. The input is parsed as Redis's wire protocol by
 * hiredis's own reader, as store.c receives it, and every complete reply is
 * read. ASan and UBSan catch memory errors and undefined behaviour; the
 * checks below catch broken promises:
 *   - a deposit (STORE_OK, not replayed) only for exactly {0, total}, with
 *     that total; a replay only for exactly {1, 0};
 *   - every other reply is one of the function's known answers {2..5, 0}, or
 *     leaves the outcome unknown: a reply of another shape may be the
 *     answer to a deposit that ran, so it is never taken for one that did
 *     not, nor for one that did. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "deposit.h"

/* Aborts with the broken promise, so libFuzzer saves the input. */
static void check(int kept, const char *promise)
{
	if (!kept) {
		fprintf(stderr, "fuzz_deposit: broken promise: %s\n", promise);
		abort();
	}
}

/* Returns the function's answer code when the reply is {code, n} with two
 * integers, or -1. */
static long long answer_code(const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	return reply->element[0]->integer;
}

/* Tells whether the input declares an array of more than 99 elements:
 * hiredis 0.14's reader allocates room for them all at once (1.x caps it at
 * maxelements), and Redis never sends the deposit function such a reply. */
static bool declares_huge_array(const uint8_t *data, size_t size)
{
	size_t i, digits;

	for (i = 0; i < size; i++) {
		if (data[i] != '*')
			continue;
		for (digits = 0; i + 1 + digits < size &&
		                 data[i + 1 + digits] >= '0' &&
		                 data[i + 1 + digits] <= '9'; digits++)
			continue;
		if (digits > 2)
			return true;
	}
	return false;
}

/* Checks the promises for one reply. */
static void check_reply(const redisReply *reply)
{
	long long total = -12345, code = answer_code(reply);
	bool replayed = true;
	enum store_status status = deposit_outcome(reply, &total, &replayed);

	if (status == STORE_OK && !replayed)
		check(code == 0 && total == reply->element[1]->integer,
		      "a deposit is reported only for {0, total}, with that total");
	else if (status == STORE_OK)
		check(code == 1, "a replay is reported only for {1, ...}");
	else
		check(!replayed, "only a replay is reported as one");
	if (code < 0 || code > 5)
		check(status == STORE_UNKNOWN_OUTCOME,
		      "a reply of unknown shape leaves the outcome unknown");
	check(status == STORE_OK || status == STORE_UNKNOWN_OUTCOME ||
	              status == STORE_KEY_REUSED || status == STORE_TOTAL_LIMIT ||
	              status == STORE_NOT_INTEGER || status == STORE_RECORD_DAMAGED,
	      "the status is one a deposit's reply can have");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *reader;
	void *reply = NULL;

	if (declares_huge_array(data, size))
		return 0;
	reader = redisReaderCreate();
	check(reader != NULL, "memory for a reader");
	if (redisReaderFeed(reader, (const char *)data, size) == REDIS_OK)
		while (redisReaderGetReply(reader, &reply) == REDIS_OK &&
		       reply != NULL) {
			check_reply(reply);
			freeReplyObject(reply);
			reply = NULL;
		}
	redisReaderFree(reader);
	return 0;
}
