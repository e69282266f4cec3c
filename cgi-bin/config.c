/* config.c: reads and validates the environment once, so that a bad setting
 * is reported clearly instead of surfacing later as a confusing failure. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amount.h"
#include "config.h"
#include "resolve.h"

#define DEFAULT_REDIS_HOST "redis"
#define DEFAULT_REDIS_PORT 6379
#define DEFAULT_TIMEOUT_MS 500
#define DEFAULT_IDEMPOTENCY_TTL_S 86400
/* No single deposit may exceed every bitcoin that will ever exist. */
#define DEFAULT_MAX_DEPOSIT 21000000
#define REDIS_USER_MAX 64
/* The longest REDIS_TIMEOUT_MS. A request spends at most REDIS_TIMEOUT_MS
 * on Redis in all: name resolution and its fallback, connect, write and
 * every reply (store.c). Under CGI, lighttpd ends a program that has
 * answered nothing for cgi.limits' read-timeout (5 s, mode-cgi.conf); it
 * reads its clock in whole seconds once a second, so that can come just
 * over 5 s after the program started. 4 s leaves a second for the
 * program's start and exit and for waiting on a busy CPU, so that the
 * answer is always the program's own (503 with Retry-After, or 504 that
 * says whether a deposit may have counted), never lighttpd's. */
#define REDIS_TIMEOUT_MAX_MS 4000

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

/* Tells whether a Redis user name is 1 to REDIS_USER_MAX visible ASCII
 * characters, as an ACL file can hold it. */
static bool is_valid_user(const char *user)
{
	size_t length = strlen(user), i;

	for (i = 0; i < length; i++)
		if (user[i] < '!' || user[i] > '~')
			return false;
	return length >= 1 && length <= REDIS_USER_MAX;
}

/* Reads the whole file at path into password, without the one final newline
 * that editors and echo add (a CRLF too). Returns NULL, or a constant
 * reason; password is then "". */
static const char *read_password(const char *path,
                                 char password[REDIS_PASSWORD_MAX + 1])
{
	const char *problem = NULL;
	size_t length = 0;
	ssize_t got = 1;
	char more;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return "server misconfigured: REDIS_PASSWORD_FILE cannot be opened (it is missing, or this user may not read it)";
	while (got != 0 && length <= REDIS_PASSWORD_MAX) {
		got = read(fd, password + length, REDIS_PASSWORD_MAX + 1 - length);
		if (got > 0)
			length += (size_t)got;
		else if (got < 0 && errno != EINTR)
			break;
	}
	if (got > 0 && read(fd, &more, 1) > 0)
		length = REDIS_PASSWORD_MAX + 2;
	close(fd);
	if (length > 0 && length <= REDIS_PASSWORD_MAX + 1 && password[length - 1] == '\n')
		length--;
	if (length > 0 && length <= REDIS_PASSWORD_MAX + 1 && password[length - 1] == '\r')
		length--;
	if (got < 0)
		problem = "server misconfigured: REDIS_PASSWORD_FILE cannot be read";
	else if (length > REDIS_PASSWORD_MAX)
		problem = "server misconfigured: REDIS_PASSWORD_FILE holds more than 512 bytes";
	else if (length == 0)
		problem = "server misconfigured: REDIS_PASSWORD_FILE is empty";
	else if (memchr(password, '\0', length) != NULL)
		problem = "server misconfigured: REDIS_PASSWORD_FILE holds a NUL byte";
	password[problem == NULL ? length : 0] = '\0';
	return problem;
}

/* Reads REDIS_USER and the password in REDIS_PASSWORD_FILE. Returns NULL,
 * or a constant reason. */
static const char *load_credentials(struct config *config)
{
	const char *password_file = env_value("REDIS_PASSWORD_FILE");

	config->redis_user = env_value("REDIS_USER");
	config->redis_password[0] = '\0';
	if (config->redis_user != NULL && !is_valid_user(config->redis_user))
		return "server misconfigured: REDIS_USER must be 1 to 64 visible ASCII characters";
	if (config->redis_user != NULL && password_file == NULL)
		return "server misconfigured: REDIS_USER is set, but REDIS_PASSWORD_FILE, its password, is not";
	if (password_file == NULL)
		return NULL;
	/* The launcher and the programs run in different directories, so a
	 * relative path would be read by one and missed by the other. */
	if (password_file[0] != '/')
		return "server misconfigured: REDIS_PASSWORD_FILE must be an absolute path";
	return read_password(password_file, config->redis_password);
}

const char *config_load(struct config *config)
{
	long port = DEFAULT_REDIS_PORT;
	long timeout_ms = DEFAULT_TIMEOUT_MS;
	long ttl_s = DEFAULT_IDEMPOTENCY_TTL_S;
	long max_deposit = DEFAULT_MAX_DEPOSIT;

	config->redis_host = env_value("REDIS_HOST");
	if (config->redis_host == NULL)
		config->redis_host = DEFAULT_REDIS_HOST;
	if (strlen(config->redis_host) > HOST_NAME_MAX_LENGTH)
		return "server misconfigured: REDIS_HOST must be a host name or address of at most 253 characters";
	config->redis_addresses.count = 0;
	if (env_value("REDIS_ADDRESS") != NULL &&
	    !address_list_parse(env_value("REDIS_ADDRESS"), &config->redis_addresses))
		return "server misconfigured: REDIS_ADDRESS must be 1 to 4 numeric IPv4 or IPv6 addresses separated by commas (start-lighttpd sets it)";
	config->run_dir = env_value("RUN_DIR");
	if (config->run_dir != NULL && config->run_dir[0] != '/')
		return "server misconfigured: RUN_DIR must be an absolute path";
	if (env_long("REDIS_PORT", 1, 65535, &port) != 0)
		return "server misconfigured: REDIS_PORT must be a port number from 1 to 65535";
	if (env_long("REDIS_TIMEOUT_MS", 1, REDIS_TIMEOUT_MAX_MS, &timeout_ms) != 0)
		return "server misconfigured: REDIS_TIMEOUT_MS must be milliseconds from 1 to 4000 (under lighttpd's 5 s CGI read-timeout)";
	if (env_long("IDEMPOTENCY_TTL_S", 1, 31536000, &ttl_s) != 0)
		return "server misconfigured: IDEMPOTENCY_TTL_S must be seconds from 1 to 31536000";
	if (env_long("MAX_DEPOSIT", 1, AMOUNT_MAX, &max_deposit) != 0)
		return "server misconfigured: MAX_DEPOSIT must be a whole number of bitcoins from 1 to 9007199254740991";
	config->redis_port = (int)port;
	config->redis_timeout.tv_sec = timeout_ms / 1000;
	config->redis_timeout.tv_usec = (timeout_ms % 1000) * 1000;
	config->idempotency_ttl_s = ttl_s;
	config->max_deposit = max_deposit;
	return load_credentials(config);
}
