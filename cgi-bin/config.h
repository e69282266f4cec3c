/* config.h: the settings both CGIs read from the environment, once, at start. */
#ifndef MONEYBANK_CONFIG_H
#define MONEYBANK_CONFIG_H

#include <sys/time.h>

struct config {
	const char *redis_host;
	/* REDIS_HOST as resolved once by start-lighttpd, so that no request
	 * needs DNS; NULL when it could not be resolved then */
	const char *redis_address;
	int redis_port;
	const char *redis_password; /* NULL when unset or empty: no AUTH is sent */
	struct timeval redis_timeout;
	long idempotency_ttl_s;
};

/* Fills config from the environment. Returns NULL when every value is valid,
 * otherwise a constant message naming the variable that is wrong. */
const char *config_load(struct config *config);

#endif
