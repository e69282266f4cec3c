/* config.c: reads and validates the environment once, so that a bad setting
 * is reported clearly instead of surfacing later as a confusing failure. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "resolve.h"

#define DEFAULT_REDIS_HOST "redis"
#define DEFAULT_REDIS_PORT 6379
#define DEFAULT_TIMEOUT_MS 500
#define DEFAULT_IDEMPOTENCY_TTL_S 86400

/* Returns the variable's value, or NULL when it is unset or empty. */
static const char *env_value(const char *name)
{
	const char *value = getenv(name);

	return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Parses a decimal variable into *out within [min, max]; an unset variable
 * keeps the default already in *out. Returns 0, or -1 when it is invalid. */
static int env_long(const char *name, long min, long max, long *out)
{
	const char *text = env_value(name);
	char *end;
	long value;

	if (text == NULL)
		return 0;
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || text[0] < '0' || text[0] > '9' ||
	    value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

const char *config_load(struct config *config)
{
	long port = DEFAULT_REDIS_PORT;
	long timeout_ms = DEFAULT_TIMEOUT_MS;
	long ttl_s = DEFAULT_IDEMPOTENCY_TTL_S;

	config->redis_host = env_value("REDIS_HOST");
	if (config->redis_host == NULL)
		config->redis_host = DEFAULT_REDIS_HOST;
	if (strlen(config->redis_host) > HOST_NAME_MAX_LENGTH)
		return "server misconfigured: REDIS_HOST must be a host name or address of at most 253 characters";
	config->redis_address = env_value("REDIS_ADDRESS");
	if (config->redis_address != NULL &&
	    !address_is_numeric(config->redis_address))
		return "server misconfigured: REDIS_ADDRESS must be a numeric IPv4 or IPv6 address (start-lighttpd sets it)";
	config->redis_password = env_value("REDIS_PASSWORD");
	if (env_long("REDIS_PORT", 1, 65535, &port) != 0)
		return "server misconfigured: REDIS_PORT must be a port number from 1 to 65535";
	if (env_long("REDIS_TIMEOUT_MS", 1, 60000, &timeout_ms) != 0)
		return "server misconfigured: REDIS_TIMEOUT_MS must be milliseconds from 1 to 60000";
	if (env_long("IDEMPOTENCY_TTL_S", 1, 31536000, &ttl_s) != 0)
		return "server misconfigured: IDEMPOTENCY_TTL_S must be seconds from 1 to 31536000";
	config->redis_port = (int)port;
	config->redis_timeout.tv_sec = timeout_ms / 1000;
	config->redis_timeout.tv_usec = (timeout_ms % 1000) * 1000;
	config->idempotency_ttl_s = ttl_s;
	return NULL;
}
