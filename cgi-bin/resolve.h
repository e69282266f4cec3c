/* resolve.h: host names to numeric addresses, within a time limit. */
#ifndef MONEYBANK_RESOLVE_H
#define MONEYBANK_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/time.h>

/* Room for any numeric address, IPv6 included, and its final NUL. */
#define ADDRESS_TEXT_MAX 46
/* The longest host name DNS allows. */
#define HOST_NAME_MAX_LENGTH 253

/* Tells whether text is a numeric IPv4 or IPv6 address, which connects
 * without any lookup. */
bool address_is_numeric(const char *text);

/* Resolves name to a numeric address (the first that getaddrinfo gives)
 * into address, waiting at most timeout. Returns NULL on success, or a
 * constant reason. A lookup still running when the time is up is left to
 * finish on its own; until it has, further calls fail at once. */
const char *resolve_name(const char *name, struct timeval timeout,
                         char address[ADDRESS_TEXT_MAX]);

#endif
