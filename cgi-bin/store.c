/* store.c: talks to Redis through hiredis. Timeouts bound every connect and
 * every reply, so a Redis that is down or hung costs a bounded wait, never a
 * hang; and every failure says whether the command ran: not sent in full
 * (it did not), sent without a reply (it may have), or refused (it did not). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "deposit.h"
#include "log.h"
#include "refusal.h"
#include "remember.h"
#include "store.h"

#define TOTAL_KEY "bitcoins"
#define IDEMPOTENCY_PREFIX "idempotency:"
#define NUMBER_MAX 24
#define IDEMPOTENCY_KEY_MAX 320

/* Redis is reached at REDIS_HOST itself when that is numeric; otherwise at
 * the addresses an earlier program's fresh lookup found and kept in RUN_DIR
 * (remember.c), newer than start-lighttpd's; else at those start-lighttpd
 * resolved. With none, the list stays empty and the first connect
 * resolves the name. */
void store_init(struct store *store, const struct config *config)
{
	store->config = config;
	store->redis = NULL;
	store->authenticated = false;
	store->quiet_until.tv_sec = 0;
	store->quiet_until.tv_nsec = 0;
	store->queued = false;
	store->addresses.count = 0;
	if (address_is_numeric(config->redis_host))
		(void)address_list_parse(config->redis_host, &store->addresses);
	else
		remembered_read(config->run_dir, &store->addresses);
	if (store->addresses.count == 0)
		store->addresses = config->redis_addresses;
}

void store_set_queued(struct store *store, bool queued)
{
	store->queued = queued;
}

void store_close(struct store *store)
{
	if (store->redis != NULL)
		redisFree(store->redis);
	store->redis = NULL;
	store->authenticated = false;
}

/* Drops a connection that failed, logging why, so the next use reconnects. */
static void store_drop(struct store *store, const char *why)
{
	log_line("redis %s:%d: %s", store->config->redis_host,
	         store->config->redis_port, why);
	store_close(store);
}

/* Makes close() reset the connection rather than leave a TIME_WAIT socket
 * behind for a minute. A CGI opens a connection per request, and past about
 * 470 requests a second the TIME_WAITs use up the ephemeral ports towards
 * Redis (by default Linux reuses them only for loopback), so connects fail
 * with "Cannot assign requested address". We close only after reading the
 * last reply we wait for, so the reset loses nothing; should it fail, the
 * socket just closes as before. */
static void store_reset_on_close(const struct store *store)
{
	const struct linger reset = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(store->redis->fd, SOL_SOCKET, SO_LINGER, &reset,
	                 sizeof(reset));
}

/* Tells whether a kept connection (FastCGI) can no longer carry a command:
 * Redis closed it (it restarted, or timed the client out), or it holds bytes
 * nobody asked for. Redis sends nothing between commands, so a usable
 * connection has nothing to read. */
static bool store_connection_closed(const struct store *store)
{
	char byte;
	ssize_t got = recv(store->redis->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	return got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Returns the time span after now, on the monotonic clock. */
static struct timespec clock_after(const struct timeval *span)
{
	struct timespec then;

	clock_gettime(CLOCK_MONOTONIC, &then);
	then.tv_sec += span->tv_sec;
	then.tv_nsec += span->tv_usec * 1000L;
	if (then.tv_nsec >= 1000000000L) {
		then.tv_sec++;
		then.tv_nsec -= 1000000000L;
	}
	return then;
}

/* Starts the time budget of one operation: REDIS_TIMEOUT_MS in all for
 * what it asks of Redis, name resolution, connect, write and replies
 * included: each step gets only the time left (store_time_left). */
static void store_start_clock(struct store *store)
{
	store->deadline = clock_after(&store->config->redis_timeout);
}

/* After Redis failed to answer, a kept process (FastCGI) answers the
 * requests that waited in line behind that one "unavailable" at once, for
 * REDIS_TIMEOUT_MS: during a stall lighttpd queues requests for the few
 * FastCGI processes, which would otherwise answer one per REDIS_TIMEOUT_MS
 * each, holding connections (server.max-connections) that others, /livez
 * included, need. Nothing is sent for them, so nothing can run. A request
 * that finds the process idle always gets a real try, and a CGI answers
 * one request, so this never holds one back. */
static void store_keep_quiet(struct store *store)
{
	store->quiet_until = clock_after(&store->config->redis_timeout);
}

/* Tells whether the request in hand waited in line and the store is
 * keeping quiet after a failure. */
static bool store_keeping_quiet(const struct store *store)
{
	struct timespec now;

	if (!store->queued)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < store->quiet_until.tv_sec ||
	       (now.tv_sec == store->quiet_until.tv_sec &&
	        now.tv_nsec < store->quiet_until.tv_nsec);
}

/* Returns the time left of the budget, at least 1 ms: hiredis reads a zero
 * timeout as none at all. */
static struct timeval store_time_left(const struct store *store)
{
	struct timespec now;
	long long left_us;
	struct timeval left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left_us = (long long)(store->deadline.tv_sec - now.tv_sec) * 1000000 +
	          (store->deadline.tv_nsec - now.tv_nsec) / 1000;
	if (left_us < 1000)
		left_us = 1000;
	left.tv_sec = (time_t)(left_us / 1000000);
	left.tv_usec = (suseconds_t)(left_us % 1000000);
	return left;
}

/* Returns the share of the time left for one of tries tries still to
 * come: each address gets its turn, even when an earlier one drops packets
 * rather than refuse. */
static struct timeval store_share_left(const struct store *store, size_t tries)
{
	struct timeval left = store_time_left(store);
	long long share_us = ((long long)left.tv_sec * 1000000 + left.tv_usec) /
	                     (long long)tries;

	if (share_us < 1000)
		share_us = 1000;
	left.tv_sec = (time_t)(share_us / 1000000);
	left.tv_usec = (suseconds_t)(share_us % 1000000);
	return left;
}

/* Connects to the numeric address within timeout. Returns false, with the
 * reason logged, when Redis cannot be reached there. */
static bool store_connect_to(struct store *store, const char *address,
                             struct timeval timeout)
{
	const char *failure = NULL;

	store->redis = redisConnectWithTimeout(address,
	                                       store->config->redis_port,
	                                       timeout);
	if (store->redis == NULL)
		failure = "out of memory";
	else if (store->redis->err != 0)
		failure = store->redis->errstr;
	else
		store_reset_on_close(store);
	if (failure != NULL) {
		log_line("redis %s at %s:%d: %s", store->config->redis_host,
		         address, store->config->redis_port, failure);
		store_close(store);
	}
	return store->redis != NULL;
}

/* Connects to the first of list's addresses that answers, skipping those
 * in tried, each in its share of the time left (reserve more tries come
 * after these). A FastCGI process then tries that address first. */
static bool store_connect_list(struct store *store, struct address_list *list,
                               const struct address_list *tried,
                               size_t reserve)
{
	size_t i, untried = 0;

	for (i = 0; i < list->count; i++)
		untried += !address_list_has(tried, list->address[i]);
	for (i = 0; i < list->count; i++) {
		if (address_list_has(tried, list->address[i]))
			continue;
		if (store_connect_to(store, list->address[i],
		                     store_share_left(store, untried-- + reserve))) {
			address_list_prefer(list, i);
			return true;
		}
	}
	return false;
}

/* Connects to where REDIS_HOST points now: resolves it afresh (no longer
 * than the time left) and tries the addresses found, except those in tried,
 * which just failed. A FastCGI process keeps the new addresses, and RUN_DIR
 * keeps them for the programs that start later. */
static bool store_connect_resolved(struct store *store,
                                   const struct address_list *tried)
{
	struct address_list fresh;
	const char *failure;

	failure = resolve_name(store->config->redis_host,
	                       store_time_left(store), &fresh);
	if (failure != NULL) {
		log_line("redis %s: cannot resolve it: %s",
		         store->config->redis_host, failure);
		return false;
	}
	if (!store_connect_list(store, &fresh, tried, 0))
		return false;
	store->addresses = fresh;
	remembered_write(store->config->run_dir, &store->addresses);
	return true;
}

/* Opens a connection: to the addresses REDIS_HOST had at start, in turn,
 * with no DNS query, and only when they all fail to a fresh resolution of
 * the name. While a fallback is possible, it counts as one more try in the
 * sharing of the time: a Service that was recreated has a new ClusterIP,
 * and the old one may drop packets rather than refuse, so the resolution
 * still gets its turn. */
static bool store_open(struct store *store)
{
	const struct address_list none = { .count = 0 };
	bool can_resolve = !address_is_numeric(store->config->redis_host);

	if (store->addresses.count == 0)
		return store_connect_resolved(store, &none);
	if (store_connect_list(store, &store->addresses, &none, can_resolve))
		return true;
	return can_resolve && store_connect_resolved(store, &store->addresses);
}

/* Opens the connection if there is none, or if the kept one was closed by
 * Redis; without that check, the first request after a Redis restart would
 * fail with a 503 though Redis is back. Returns false when Redis cannot be
 * reached in time. */
static bool store_connect(struct store *store)
{
	if (store->redis != NULL && store_connection_closed(store))
		store_drop(store, "the kept connection was closed; reconnecting");
	return store->redis != NULL || store_open(store);
}

/* Bounds the next write or read on the connection by the time left of the
 * budget: hiredis applies a timeout to each write() and read(), so without
 * this a reply read after another (AUTH's, then the command's) could wait a
 * whole REDIS_TIMEOUT_MS again. Returns false when it cannot be set. */
static bool store_bound_wait(struct store *store)
{
	return redisSetTimeout(store->redis, store_time_left(store)) == REDIS_OK;
}

/* Drops a connection that failed while carrying command, logging what
 * became of the command and hiredis's reason. */
static void store_fail(struct store *store, const char *command,
                       const char *outcome)
{
	log_line("redis %s:%d: %s %s: %s", store->config->redis_host,
	         store->config->redis_port, command, outcome,
	         store->redis->errstr);
	store_close(store);
}

/* Queues AUTH with REDIS_USER, when set, and the password. */
static bool store_queue_auth(struct store *store)
{
	const struct config *config = store->config;

	if (config->redis_user != NULL)
		return redisAppendCommand(store->redis, "AUTH %s %s",
		                          config->redis_user,
		                          config->redis_password) == REDIS_OK;
	return redisAppendCommand(store->redis, "AUTH %s",
	                          config->redis_password) == REDIS_OK;
}

/* Writes AUTH (on a new connection with a password, in the same write,
 * which saves a round trip per request) and the command. Returns false,
 * with the connection dropped, when not all of it could be written in
 * time: Redis then holds at most part of the command, which it never runs.
 * *auth_sent tells whether a reply to AUTH comes first. */
static bool store_send(struct store *store, int argc, const char **argv,
                       bool *auth_sent)
{
	int done = 0;
	bool queued = store_bound_wait(store);

	*auth_sent = store->config->redis_password[0] != '\0' &&
	             !store->authenticated;
	if (queued && *auth_sent)
		queued = store_queue_auth(store);
	if (queued)
		queued = redisAppendCommandArgv(store->redis, argc, argv,
		                                NULL) == REDIS_OK;
	while (queued && !done)
		queued = redisBufferWrite(store->redis, &done) == REDIS_OK;
	if (!queued)
		store_fail(store, argv[0], "was not sent in full, so it did not run");
	return queued;
}

/* Reads one reply to command, waiting no longer than the time left.
 * Returns it, or NULL with the connection dropped when none came in time:
 * the command was sent, so it may have run. */
static redisReply *store_read(struct store *store, const char *command)
{
	redisReply *reply = NULL;

	if (!store_bound_wait(store) ||
	    redisGetReply(store->redis, (void **)&reply) != REDIS_OK) {
		store_fail(store, command, "was sent but no reply came, so it may have run");
		reply = NULL;
	}
	return reply;
}

/* Reads the reply to a pipelined AUTH. Returns false when Redis did not
 * answer; a refused AUTH is only logged, because the command after it
 * already ran or was refused, and its own reply tells which. */
static bool store_read_auth(struct store *store, const char *command)
{
	redisReply *reply = store_read(store, command);
	bool answered = reply != NULL;

	if (answered && reply->type == REDIS_REPLY_ERROR)
		log_line("redis refused AUTH: %s", reply->str);
	else if (answered)
		store->authenticated = true;
	if (answered)
		freeReplyObject(reply);
	return answered;
}

/* Reads the command's reply, after AUTH's when one was sent. */
static redisReply *store_receive(struct store *store, const char *command,
                                 bool auth_sent)
{
	if (auth_sent && !store_read_auth(store, command))
		return NULL;
	return store_read(store, command);
}

/* Sorts an error reply to command into the state it reports, and logs the
 * state and its remedy for the operator (a total at its limit is the
 * client's concern, not the operator's). A refused password drops the
 * connection, so that the next command authenticates again. */
static enum store_status store_refused(struct store *store,
                                       const char *command, const char *error)
{
	enum store_status status = refusal_status(error);

	if (status != STORE_TOTAL_LIMIT)
		log_line("redis %s:%d refused %s: %s (%s)",
		         store->config->redis_host, store->config->redis_port,
		         command, error, refusal_remedy(status));
	if (status == STORE_AUTH_REJECTED)
		store_close(store);
	return status;
}

/* Runs one command. Returns its reply, or NULL with *status saying why
 * there is none and whether the command ran: STORE_UNAVAILABLE (it was
 * never sent in full), STORE_UNKNOWN_OUTCOME (sent, no reply), or the state
 * an error reply reports (refused: it did not run). */
static redisReply *store_run(struct store *store, int argc, const char **argv,
                             enum store_status *status)
{
	redisReply *reply = NULL;
	bool auth_sent;

	*status = STORE_UNAVAILABLE;
	if (store_keeping_quiet(store))
		return NULL;
	store_start_clock(store);
	if (store_connect(store) && store_send(store, argc, argv, &auth_sent)) {
		*status = STORE_UNKNOWN_OUTCOME;
		reply = store_receive(store, argv[0], auth_sent);
	}
	if (reply == NULL)
		store_keep_quiet(store);
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		*status = store_refused(store, argv[0], reply->str);
		freeReplyObject(reply);
		reply = NULL;
	} else if (reply != NULL) {
		*status = STORE_OK;
	}
	return reply;
}

/* Parses a stored total strictly: an optional minus sign, then digits. */
static bool parse_total(const char *text, long long *total)
{
	char *end;

	errno = 0;
	*total = strtoll(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' &&
	       (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'));
}

enum store_status store_probe(struct store *store)
{
	const char *argv[] = { "FCALL", WRITABLE_FUNCTION, "0" };
	enum store_status status;
	redisReply *reply = store_run(store, 3, argv, &status);

	if (reply != NULL) {
		if (reply->type != REDIS_REPLY_INTEGER || reply->integer != 1)
			status = STORE_UNKNOWN_OUTCOME;
		freeReplyObject(reply);
	}
	return status;
}

enum store_status store_total(struct store *store, long long *total)
{
	const char *argv[] = { "GET", TOTAL_KEY };
	enum store_status status;
	redisReply *reply = store_run(store, 2, argv, &status);

	*total = 0;
	if (reply != NULL) {
		if (reply->type == REDIS_REPLY_STRING &&
		    !parse_total(reply->str, total))
			status = STORE_NOT_INTEGER;
		else if (reply->type != REDIS_REPLY_STRING &&
		         reply->type != REDIS_REPLY_NIL)
			status = STORE_UNKNOWN_OUTCOME;
		freeReplyObject(reply);
	}
	/* GET reads the total alone: a WRONGTYPE can only be the total's. */
	if (status == STORE_WRONG_TYPE)
		status = STORE_NOT_INTEGER;
	if (status == STORE_NOT_INTEGER)
		log_line("redis: %s", refusal_remedy(status));
	return status;
}

/* Logs, for the operator, what a deposit found damaged and how to repair
 * it; record_key is the idempotency record the deposit used, or NULL. */
static void store_log_damage(enum store_status status, const char *record_key)
{
	if (status == STORE_NOT_INTEGER)
		log_line("redis: %s", refusal_remedy(status));
	else if (status == STORE_RECORD_DAMAGED)
		log_line("redis: the idempotency record %s holds another type than a string, "
		         "or has no expiry, so a repeat of its deposit cannot be ruled out; "
		         "as admin (" REDIS_ADMIN_CLI "), find out what wrote it (TYPE %s, PTTL %s), "
		         "then delete it (DEL %s)",
		         record_key, record_key, record_key, record_key);
}

enum store_status store_deposit(struct store *store, const char *key,
                                long long amount, long long *total,
                                bool *replayed)
{
	char amount_text[NUMBER_MAX], ttl_text[NUMBER_MAX];
	char record_key[IDEMPOTENCY_KEY_MAX] = "";
	const char *argv[] = { "FCALL", DEPOSIT_FUNCTION, "1", TOTAL_KEY,
	                       amount_text, NULL, NULL };
	enum store_status status;
	redisReply *reply;
	int argc = 5;

	snprintf(amount_text, sizeof(amount_text), "%lld", amount);
	if (key != NULL) {
		snprintf(ttl_text, sizeof(ttl_text), "%ld",
		         store->config->idempotency_ttl_s);
		snprintf(record_key, sizeof(record_key), "%s%s",
		         IDEMPOTENCY_PREFIX, key);
		argv[2] = "2";
		argv[4] = record_key;
		argv[5] = amount_text;
		argv[6] = ttl_text;
		argc = 7;
	}
	*replayed = false;
	reply = store_run(store, argc, argv, &status);
	if (reply != NULL) {
		status = deposit_outcome(reply, total, replayed);
		freeReplyObject(reply);
	}
	store_log_damage(status, record_key);
	return status;
}
