/* amount.h: the deposit amount taken from an untrusted query string. */
#ifndef MONEYBANK_AMOUNT_H
#define MONEYBANK_AMOUNT_H

#include <stddef.h>

/* The largest MAX_DEPOSIT (config.c): 2^53 - 1, so that JavaScript
 * clients, which hold numbers as doubles, see every amount exactly. */
#define AMOUNT_MAX 9007199254740991LL

enum amount_status {
	AMOUNT_OK,
	AMOUNT_MISSING,
	AMOUNT_EMPTY,
	AMOUNT_NOT_DIGITS,
	AMOUNT_ZERO,
	AMOUNT_TOO_LARGE,
	AMOUNT_REPEATED,
	AMOUNT_BAD_ESCAPE,
};

/* Finds the one "bitcoins" parameter in the query (length bytes, any bytes
 * allowed) and parses its percent-decoded value, from 1 to max (at most
 * AMOUNT_MAX), into *amount. */
enum amount_status amount_from_query(const char *query, size_t length,
                                     long long max, long long *amount);

/* Writes the client-facing explanation of a status other than AMOUNT_OK,
 * naming max where it matters and saying that nothing was added, into text
 * (size bytes, NUL included). */
void amount_explain(enum amount_status status, long long max, char *text,
                    size_t size);

#endif
