/* accept.c: weighs an Accept header (RFC 9110, section 12.5.1) for the two
 * types we can send. The most specific media range that matches a type
 * gives its quality; a type that no range matches gets 0. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "accept.h"

/* Qualities are kept in thousandths, as the header writes them. */
#define QUALITY_MAX 1000

/* A media range from the header: "type/subtype" and its quality. */
struct media_range {
	const char *type;
	size_t type_length;
	int quality;
};

/* Skips spaces and tabs. */
static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Parses a qvalue ("0", "0.5", "1.000"); returns -1 when malformed. */
static int parse_quality(const char *p, const char *end)
{
	int quality, scale = 100;

	if (p >= end || (*p != '0' && *p != '1'))
		return -1;
	quality = (*p++ - '0') * QUALITY_MAX;
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9' && scale > 0; p++) {
			quality += (*p - '0') * scale;
			scale /= 10;
		}
	p = skip_blanks(p);
	return p == end && quality <= QUALITY_MAX ? quality : -1;
}

/* Reads the range that starts at p and ends before end; the quality is
 * QUALITY_MAX unless a "q" parameter says otherwise. */
static void parse_range(const char *p, const char *end,
                        struct media_range *range)
{
	const char *parameter = memchr(p, ';', (size_t)(end - p));
	const char *type_end = parameter != NULL ? parameter : end;

	p = skip_blanks(p);
	while (type_end > p && (type_end[-1] == ' ' || type_end[-1] == '\t'))
		type_end--;
	range->type = p;
	range->type_length = type_end > p ? (size_t)(type_end - p) : 0;
	range->quality = QUALITY_MAX;
	while (parameter != NULL) {
		const char *name = skip_blanks(parameter + 1);
		const char *next = memchr(name, ';', (size_t)(end - name));
		const char *value_end = next != NULL ? next : end;

		if (value_end - name >= 2 && (name[0] == 'q' || name[0] == 'Q') &&
		    name[1] == '=')
			range->quality = parse_quality(name + 2, value_end);
		parameter = next;
	}
}

/* Returns how specifically a range matches "type/subtype": 3 for exactly,
 * 2 for "type/ *", 1 for "* / *", 0 for not at all. */
static int specificity(const struct media_range *range, const char *type,
                       size_t major_length)
{
	size_t length = range->type_length;

	if (length == strlen(type) && strncasecmp(range->type, type, length) == 0)
		return 3;
	if (length == major_length + 2 &&
	    strncasecmp(range->type, type, major_length + 1) == 0 &&
	    range->type[major_length + 1] == '*')
		return 2;
	if (length == 3 && strncmp(range->type, "*/*", 3) == 0)
		return 1;
	return 0;
}

/* Returns the quality the header gives to "type/subtype". */
static int quality_of(const char *accept, const char *type)
{
	size_t major_length = (size_t)(strchr(type, '/') - type);
	int best_specificity = 0, quality = 0;
	const char *p = accept;

	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		const char *end = comma != NULL ? comma : p + strlen(p);
		struct media_range range;
		int match;

		parse_range(p, end, &range);
		match = specificity(&range, type, major_length);
		if (match > best_specificity && range.quality >= 0) {
			best_specificity = match;
			quality = range.quality;
		}
		p = comma != NULL ? comma + 1 : end;
	}
	return quality;
}

bool accept_prefers_json(const char *accept)
{
	return quality_of(accept, "application/json") >
	       quality_of(accept, "text/plain");
}
