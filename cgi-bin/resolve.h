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

/* How many addresses of one name are kept: a host's IPv4 and IPv6 ones
 * (Debian's /etc/hosts gives localhost both) and a few more. */
#define ADDRESSES_MAX 4
/* Room for ADDRESSES_MAX addresses written as one text, commas between. */
#define ADDRESS_LIST_TEXT_MAX (ADDRESSES_MAX * ADDRESS_TEXT_MAX)

/* The numeric addresses of a name, in the order to try them. */
struct address_list {
	size_t count;
	char address[ADDRESSES_MAX][ADDRESS_TEXT_MAX];
};

/* Tells whether text is a numeric IPv4 or IPv6 address, which connects
 * without any lookup. */
bool address_is_numeric(const char *text);

/* Reads text, 1 to ADDRESSES_MAX numeric addresses separated by commas,
 * into list. Returns false when any part is not a numeric address. */
bool address_list_parse(const char *text, struct address_list *list);

/* Writes list as text, its addresses separated by commas ("" if empty). */
void address_list_format(const struct address_list *list,
                         char text[ADDRESS_LIST_TEXT_MAX]);

/* Tells whether address is one of list's. */
bool address_list_has(const struct address_list *list, const char *address);

/* Moves list's address at index to the front, keeping the others' order:
 * an address that worked is tried first next time. */
void address_list_prefer(struct address_list *list, size_t index);

/* Resolves name into list: every IPv4 and IPv6 address getaddrinfo gives
 * (each once, in its order, at most ADDRESSES_MAX), waiting at most
 * timeout. Returns NULL on success, or a constant reason. A lookup still
 * running when the time is up is left to finish on its own; until it has,
 * further calls fail at once. */
const char *resolve_name(const char *name, struct timeval timeout,
                         struct address_list *list);

#endif
