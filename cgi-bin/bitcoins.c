/* bitcoins.c: the /v1/bitcoins resource.
 *
 *   GET, HEAD  200 the total as a decimal integer, no trailing newline;
 *              {"bitcoins":N} when the client prefers application/json
 *   POST       ?bitcoins=N adds N (1..MAX_DEPOSIT) atomically: 204
 *              400 bad amount (the body names the maximum), 409 the total
 *              would pass 2^53-1 (the body names the largest amount that
 *              fits), 422 reused Idempotency-Key with another amount
 *   other      405 with Allow
 *   Redis down, slow or refusing: 503 with a Retry-After that fits its
 *   state when nothing happened; 504 for a deposit sent without a reply,
 *   whose outcome is unknown; never a hang. */
#include <stdio.h>
#include <string.h>

#include "accept.h"
#include "amount.h"
#include "cgi.h"
#include "log.h"
#include "outcome.h"
#include "serve.h"
#include "store.h"

#define TOTAL_TEXT_MAX 32
#define TOTAL_JSON_MAX 48
#define IDEMPOTENCY_KEY_LENGTH_MAX 255
#define AMOUNT_ERROR_MAX 192

/* GET and HEAD: the total, as plain text unless JSON is preferred. */
static void send_total(const struct request *request, struct store *store)
{
	char text[TOTAL_TEXT_MAX], json[TOTAL_JSON_MAX];
	struct reply reply = { 200, "text/plain; charset=utf-8", text, NULL };
	enum store_status status;
	long long total;

	status = store_total(store, &total);
	if (status != STORE_OK) {
		reply_store_error(request, status);
		return;
	}
	snprintf(text, sizeof(text), "%lld", total);
	if (accept_prefers_json(request->accept)) {
		snprintf(json, sizeof(json), "{\"bitcoins\":%lld}", total);
		reply.content_type = "application/json";
		reply.body = json;
	}
	reply_send(request, &reply);
}

/* Tells whether an Idempotency-Key is 1 to 255 visible ASCII characters. */
static bool is_valid_idempotency_key(const char *key)
{
	size_t length = strlen(key), i;

	for (i = 0; i < length; i++)
		if (key[i] < '!' || key[i] > '~')
			return false;
	return length >= 1 && length <= IDEMPOTENCY_KEY_LENGTH_MAX;
}

/* POST: validates the amount (1 to MAX_DEPOSIT), adds it, once per
 * Idempotency-Key when the client sent one, and logs the deposit. */
static void deposit(const struct request *request, struct store *store)
{
	struct reply done = { 204, NULL, NULL, NULL };
	long long max = store->config->max_deposit, amount = 0, total = 0;
	char amount_error[AMOUNT_ERROR_MAX];
	enum amount_status parsed;
	enum store_status status;
	bool replayed;

	parsed = amount_from_query(request->query, strlen(request->query), max,
	                           &amount);
	if (parsed != AMOUNT_OK) {
		amount_explain(parsed, max, amount_error, sizeof(amount_error));
		reply_error(request, 400, amount_error);
		return;
	}
	if (request->idempotency_key != NULL &&
	    !is_valid_idempotency_key(request->idempotency_key)) {
		reply_error(request, 400, "Idempotency-Key must be 1 to 255 visible ASCII characters; nothing was added");
		return;
	}
	status = store_deposit(store, request->idempotency_key, amount, &total,
	                       &replayed);
	if (status == STORE_UNKNOWN_OUTCOME)
		log_line("deposit amount=%lld outcome unknown idempotency-key=%s",
		         amount, request->idempotency_key != NULL
		                         ? request->idempotency_key : "-");
	if (status == STORE_TOTAL_LIMIT) {
		/* total is then the largest amount that still fits */
		reply_total_limit(request, total);
		return;
	}
	if (status != STORE_OK) {
		reply_store_error(request, status);
		return;
	}
	if (replayed)
		done.extra_header = "Idempotent-Replayed: true";
	else
		log_line("deposit amount=%lld total=%lld", amount, total);
	reply_send(request, &done);
}

/* The /v1/bitcoins contract: read the total, deposit, or 405. */
static void bitcoins(const struct request *request, struct store *store)
{
	if (request_is_read(request))
		send_total(request, store);
	else if (request_is(request, "POST"))
		deposit(request, store);
	else
		reply_not_allowed(request, "Allow: GET, HEAD, POST");
}

int main(void)
{
	return serve(bitcoins);
}
