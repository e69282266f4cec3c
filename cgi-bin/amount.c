/* amount.c: parses the deposit amount out of the query string. This is the
 * only code that reads bytes chosen by the client, so it is written to be
 * fuzzed: it takes a length, never reads past it, and allocates nothing. */
#include <stdio.h>
#include <string.h>

#include "amount.h"

#define AMOUNT_PARAMETER "bitcoins"

/* A query component: the bytes of one name or one value, still encoded. */
struct component {
	const char *bytes;
	size_t length;
};

/* Returns the value of a hexadecimal digit, or -1 for any other byte. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the byte at *position of an encoded component ("%XX" escapes, and
 * "+" for a space as in HTML forms) and moves past it. Returns the byte, or
 * -1 for a "%" that is not followed by two hexadecimal digits. */
static int decode_next(struct component text, size_t *position)
{
	size_t at = *position;
	int high, low;

	if (text.bytes[at] == '+') {
		*position = at + 1;
		return ' ';
	}
	if (text.bytes[at] != '%') {
		*position = at + 1;
		return (unsigned char)text.bytes[at];
	}
	if (text.length - at < 3)
		return -1;
	high = hex_value(text.bytes[at + 1]);
	low = hex_value(text.bytes[at + 2]);
	if (high < 0 || low < 0)
		return -1;
	*position = at + 3;
	return high * 16 + low;
}

/* Tells whether an encoded name decodes to exactly the given plain name. A
 * name with a malformed escape matches nothing: it cannot be ours. */
static int name_is(struct component name, const char *plain)
{
	size_t position = 0, matched = 0, plain_length = strlen(plain);
	int c;

	while (position < name.length) {
		c = decode_next(name, &position);
		if (c < 0 || matched == plain_length || c != plain[matched])
			return 0;
		matched++;
	}
	return matched == plain_length;
}

/* Parses an encoded value as a decimal amount from 1 to max. */
static enum amount_status parse_value(struct component value, long long max,
                                      long long *amount)
{
	size_t position = 0;
	long long total = 0;
	int c, too_large = 0;

	if (value.length == 0)
		return AMOUNT_EMPTY;
	while (position < value.length) {
		c = decode_next(value, &position);
		if (c < 0)
			return AMOUNT_BAD_ESCAPE;
		if (c < '0' || c > '9')
			return AMOUNT_NOT_DIGITS;
		if (!too_large)
			total = total * 10 + (c - '0');
		too_large = too_large || total > max;
	}
	if (too_large)
		return AMOUNT_TOO_LARGE;
	if (total == 0)
		return AMOUNT_ZERO;
	*amount = total;
	return AMOUNT_OK;
}

/* Splits the next "name=value" pair off the query at *position, which then
 * points past the "&" that ends it. */
static void next_pair(struct component query, size_t *position,
                      struct component *name, struct component *value)
{
	const char *start = query.bytes + *position;
	size_t rest = query.length - *position;
	const char *end = memchr(start, '&', rest);
	size_t pair_length = end != NULL ? (size_t)(end - start) : rest;
	const char *equals = memchr(start, '=', pair_length);

	name->bytes = start;
	name->length = equals != NULL ? (size_t)(equals - start) : pair_length;
	value->bytes = equals != NULL ? equals + 1 : start + pair_length;
	value->length = pair_length - name->length - (equals != NULL);
	*position += pair_length + (end != NULL);
}

enum amount_status amount_from_query(const char *bytes, size_t length,
                                     long long max, long long *amount)
{
	struct component query = { bytes, length }, name, value, found = { 0 };
	size_t position = 0;
	int seen = 0;

	while (position < query.length) {
		next_pair(query, &position, &name, &value);
		if (!name_is(name, AMOUNT_PARAMETER))
			continue;
		if (seen)
			return AMOUNT_REPEATED;
		seen = 1;
		found = value;
	}
	if (!seen)
		return AMOUNT_MISSING;
	return parse_value(found, max < AMOUNT_MAX ? max : AMOUNT_MAX, amount);
}

/* Ends every explanation of a refused amount: the deposit did not count. */
#define NOTHING_ADDED "; nothing was added"

void amount_explain(enum amount_status status, long long max, char *text,
                    size_t size)
{
	const char *fixed = "the deposit amount is valid";

	switch (status) {
	case AMOUNT_MISSING:
		snprintf(text, size, "the query parameter bitcoins is missing; send POST /v1/bitcoins?bitcoins=N with N from 1 to %lld" NOTHING_ADDED, max);
		return;
	case AMOUNT_EMPTY:
		snprintf(text, size, "the query parameter bitcoins is empty; give a whole number from 1 to %lld" NOTHING_ADDED, max);
		return;
	case AMOUNT_TOO_LARGE:
		snprintf(text, size, "bitcoins must be at most %lld per deposit" NOTHING_ADDED, max);
		return;
	case AMOUNT_NOT_DIGITS:
		fixed = "bitcoins must be written with the digits 0-9 only: no sign, decimal point, exponent, hex, spaces or other characters";
		break;
	case AMOUNT_ZERO:
		fixed = "bitcoins must be at least 1; a deposit of zero adds nothing";
		break;
	case AMOUNT_REPEATED:
		fixed = "the query parameter bitcoins is given more than once; give it exactly once";
		break;
	case AMOUNT_BAD_ESCAPE:
		fixed = "the value of bitcoins has a malformed percent-escape; use %XX with two hex digits";
		break;
	case AMOUNT_OK:
		snprintf(text, size, "%s", fixed);
		return;
	}
	snprintf(text, size, "%s" NOTHING_ADDED, fixed);
}
