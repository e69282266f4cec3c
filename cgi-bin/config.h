/* config.h: the settings both CGIs read from the environment, once, at start. */
#ifndef MONEYBANK_CONFIG_H
#define MONEYBANK_CONFIG_H

#include <sys/time.h>

#include "resolve.h"

/* The longest Redis password read from REDIS_PASSWORD_FILE. */
#define REDIS_PASSWORD_MAX 512

struct config {
	const char *redis_host;
	/* REDIS_ADDRESS: REDIS_HOST's addresses as start-lighttpd resolved
	 * them once, so that no request needs DNS; none when it could not
	 * resolve the name then */
	struct address_list redis_addresses;
	/* RUN_DIR, lighttpd's own directory, where a program keeps the
	 * addresses a fresh lookup found (remember.c); NULL when unset */
	const char *run_dir;
	int redis_port;
	/* REDIS_USER, the Redis ACL user; NULL: AUTH names none ("default") */
	const char *redis_user;
	/* read from REDIS_PASSWORD_FILE when the program starts (never from the
	 * environment, where /proc/PID/environ would show it); "" when no file
	 * is set: no AUTH is sent */
	char redis_password[REDIS_PASSWORD_MAX + 1];
	struct timeval redis_timeout;
	long idempotency_ttl_s;
	long long max_deposit; /* MAX_DEPOSIT: the most one deposit may add */
};

/* Fills config from the environment and the password file. Returns NULL
 * when every value is valid, otherwise a constant message naming the
 * variable that is wrong. */
const char *config_load(struct config *config);

#endif
