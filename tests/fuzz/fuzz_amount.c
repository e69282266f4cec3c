/* fuzz_amount.c: libFuzzer harness for amount_from_query(), which parses the
 * untrusted query string of a deposit. ASan and UBSan catch memory errors
 * and undefined behaviour; the checks below catch broken promises:
 *   - an accepted amount lies in 1..AMOUNT_MAX;
 *   - a lower maximum (MAX_DEPOSIT's default) changes the answer only for
 *     an amount above it, which it refuses as too large;
 *   - the same bytes always give the same answer;
 *   - another parameter in front changes nothing;
 *   - a second "bitcoins" after an accepted one is refused as repeated;
 *   - an accepted amount, written back as "bitcoins=N", parses to itself.
 * Every parse reads a copy of exactly `length` bytes with no terminator, so
 * reading one byte too far is caught. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"

#define OTHER_PARAMETER "other=1&"
#define REPEATED_PARAMETER "&bitcoins=1"
#define NUMBER_TEXT_MAX 40
#define EXPLANATION_MAX 256
#define LOWER_MAX 21000000LL

/* Aborts with the broken promise, so libFuzzer saves the input. */
static void check(int kept, const char *promise)
{
	if (!kept) {
		fprintf(stderr, "fuzz_amount: broken promise: %s\n", promise);
		abort();
	}
}

/* Parses the concatenation of up to two byte strings, copied into a heap
 * buffer of exactly their length. */
static enum amount_status parse_joined(const char *first, size_t first_length,
                                       const char *second,
                                       size_t second_length, long long max,
                                       long long *amount)
{
	size_t length = first_length + second_length;
	char *copy = malloc(length > 0 ? length : 1);
	enum amount_status status;

	check(copy != NULL, "memory for a copy");
	if (first_length > 0)
		memcpy(copy, first, first_length);
	if (second_length > 0)
		memcpy(copy + first_length, second, second_length);
	status = amount_from_query(copy, length, max, amount);
	free(copy);
	return status;
}

/* Checks the promises that hold for an accepted amount. */
static void check_accepted(const char *query, size_t size, long long amount)
{
	char text[NUMBER_TEXT_MAX];
	long long other = 0;
	int length;

	check(amount >= 1 && amount <= AMOUNT_MAX, "the amount is 1..2^53-1");
	check(parse_joined(query, size, REPEATED_PARAMETER,
	                   strlen(REPEATED_PARAMETER), AMOUNT_MAX,
	                   &other) == AMOUNT_REPEATED,
	      "a second bitcoins parameter is refused");
	length = snprintf(text, sizeof(text), "bitcoins=%lld", amount);
	check(parse_joined(text, (size_t)length, NULL, 0, AMOUNT_MAX, &other) ==
	              AMOUNT_OK && other == amount,
	      "the amount written back parses to itself");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *query = (const char *)data;
	long long amount = 0, again = 0, prefixed = 0, lower = 0;
	enum amount_status status, status_again, status_prefixed, status_lower;
	char explanation[EXPLANATION_MAX] = "";

	status = parse_joined(query, size, NULL, 0, AMOUNT_MAX, &amount);
	check((int)status >= AMOUNT_OK && (int)status <= AMOUNT_BAD_ESCAPE,
	      "the status is a known one");
	amount_explain(status, LOWER_MAX, explanation, sizeof(explanation));
	check(strlen(explanation) > 0, "every status is explained");
	status_again = parse_joined(query, size, NULL, 0, AMOUNT_MAX, &again);
	check(status_again == status, "the same bytes give the same status");
	status_lower = parse_joined(query, size, NULL, 0, LOWER_MAX, &lower);
	check(status == AMOUNT_OK && amount > LOWER_MAX
	              ? status_lower == AMOUNT_TOO_LARGE
	              : status_lower == status && lower == amount,
	      "a lower maximum refuses just the amounts above it");
	status_prefixed = parse_joined(OTHER_PARAMETER, strlen(OTHER_PARAMETER),
	                               query, size, AMOUNT_MAX, &prefixed);
	check(status_prefixed == status, "another parameter in front changes nothing");
	if (status != AMOUNT_OK)
		return 0;
	check(again == amount && prefixed == amount,
	      "the same bytes give the same amount");
	check_accepted(query, size, amount);
	return 0;
}
