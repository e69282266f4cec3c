/* fuzz_accept.c: libFuzzer harness for accept_prefers_json(), which weighs
 * the untrusted Accept header. The input becomes a NUL-terminated string
 * in a heap buffer of exactly its size (bytes after a NUL are cut off, as
 * in the CGI environment), so reading past the end is caught. ASan and UBSan
 * catch memory errors and undefined behaviour; the checks below catch broken
 * promises:
 *   - the same header always gives the same answer;
 *   - a further range for an unrelated type changes nothing;
 *   - upper- or lower-case letters change nothing (RFC 9110 matches media
 *     types and the "q" parameter case-insensitively). */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"

#define UNRELATED_RANGE ",image/png;q=1"

/* Aborts with the broken promise, so libFuzzer saves the input. */
static void check(int kept, const char *promise)
{
	if (!kept) {
		fprintf(stderr, "fuzz_accept: broken promise: %s\n", promise);
		abort();
	}
}

/* Returns a heap copy of text followed by suffix, NUL-terminated, in a
 * buffer of exactly that size. */
static char *joined(const char *text, const char *suffix)
{
	size_t length = strlen(text), suffix_length = strlen(suffix);
	char *copy = malloc(length + suffix_length + 1);

	check(copy != NULL, "memory for a copy");
	memcpy(copy, text, length);
	memcpy(copy + length, suffix, suffix_length + 1);
	return copy;
}

/* Returns a heap copy of text with its ASCII letters in upper case. */
static char *upper_cased(const char *text)
{
	char *copy = joined(text, "");
	size_t i;

	for (i = 0; copy[i] != '\0'; i++)
		if (copy[i] >= 'a' && copy[i] <= 'z')
			copy[i] = (char)toupper((unsigned char)copy[i]);
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *header = malloc(size + 1), *longer, *upper;
	bool prefers;

	check(header != NULL, "memory for a copy");
	if (size > 0)
		memcpy(header, data, size);
	header[size] = '\0';
	prefers = accept_prefers_json(header);
	check(accept_prefers_json(header) == prefers,
	      "the same header gives the same answer");
	longer = joined(header, UNRELATED_RANGE);
	check(accept_prefers_json(longer) == prefers,
	      "a range for an unrelated type changes nothing");
	upper = upper_cased(header);
	check(accept_prefers_json(upper) == prefers,
	      "the case of letters changes nothing");
	free(upper);
	free(longer);
	free(header);
	return 0;
}
