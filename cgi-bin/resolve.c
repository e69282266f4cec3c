/* resolve.c: turns a host name into a numeric address, within a time limit.
 *
 * getaddrinfo() has no timeout of its own: with a resolver that never
 * answers and a pod's resolv.conf (ndots:5, three search domains), one call
 * took 40 s. getaddrinfo_a() runs the same lookup (/etc/hosts, then DNS) on
 * a thread of glibc's, and gai_suspend() waits for it only as long as we
 * allow. A lookup that is still running then is left to finish by itself;
 * it has only a static request to write to, and no second one starts while
 * it runs, so a process never piles up lookups (a FastCGI process keeps at
 * most one such thread; a CGI's ends when it exits). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "resolve.h"

/* The one lookup of this process, and the name it looks up. */
static struct gaicb lookup;
static struct addrinfo lookup_hints;
static char lookup_name[HOST_NAME_MAX_LENGTH + 1];

bool address_is_numeric(const char *text)
{
	unsigned char bytes[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, text, bytes) == 1 ||
	       inet_pton(AF_INET6, text, bytes) == 1;
}

bool address_list_parse(const char *text, struct address_list *list)
{
	const char *part = text;
	size_t length;

	list->count = 0;
	for (;;) {
		length = strcspn(part, ",");
		if (list->count == ADDRESSES_MAX || length >= ADDRESS_TEXT_MAX)
			return false;
		memcpy(list->address[list->count], part, length);
		list->address[list->count][length] = '\0';
		if (!address_is_numeric(list->address[list->count++]))
			return false;
		if (part[length] == '\0')
			return true;
		part += length + 1;
	}
}

void address_list_format(const struct address_list *list,
                         char text[ADDRESS_LIST_TEXT_MAX])
{
	size_t i, used = 0;

	text[0] = '\0';
	for (i = 0; i < list->count; i++)
		used += (size_t)snprintf(text + used, ADDRESS_LIST_TEXT_MAX - used,
		                         "%s%s", i > 0 ? "," : "",
		                         list->address[i]);
}

bool address_list_has(const struct address_list *list, const char *address)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->address[i], address) == 0)
			return true;
	return false;
}

void address_list_prefer(struct address_list *list, size_t index)
{
	char chosen[ADDRESS_TEXT_MAX];

	memcpy(chosen, list->address[index], sizeof(chosen));
	memmove(list->address[1], list->address[0],
	        index * sizeof(list->address[0]));
	memcpy(list->address[0], chosen, sizeof(chosen));
}

/* Adds the numeric form of a socket address to list, unless it is there
 * already, the list is full, or it is neither IPv4 nor IPv6. */
static void address_list_add(struct address_list *list,
                             const struct addrinfo *found)
{
	char text[ADDRESS_TEXT_MAX];
	const void *bytes;

	if (found->ai_family == AF_INET)
		bytes = &((const struct sockaddr_in *)found->ai_addr)->sin_addr;
	else if (found->ai_family == AF_INET6)
		bytes = &((const struct sockaddr_in6 *)found->ai_addr)->sin6_addr;
	else
		return;
	if (list->count == ADDRESSES_MAX ||
	    inet_ntop(found->ai_family, bytes, text, sizeof(text)) == NULL ||
	    address_list_has(list, text))
		return;
	memcpy(list->address[list->count++], text, sizeof(text));
}

/* Fills list with the addresses of a lookup's result. */
static const char *address_list_fill(struct address_list *list,
                                     const struct addrinfo *found)
{
	list->count = 0;
	for (; found != NULL; found = found->ai_next)
		address_list_add(list, found);
	return list->count > 0 ? NULL : "the name has no IPv4 or IPv6 address";
}

/* Frees the result of the previous lookup, once it has finished. Returns
 * false while it is still waiting for the resolver. */
static bool lookup_release(void)
{
	if (lookup.ar_name == NULL)
		return true;
	if (gai_error(&lookup) == EAI_INPROGRESS)
		return false;
	if (lookup.ar_result != NULL)
		freeaddrinfo(lookup.ar_result);
	memset(&lookup, 0, sizeof(lookup));
	return true;
}

/* Starts looking name up on glibc's thread. */
static const char *lookup_start(const char *name)
{
	struct gaicb *requests[1] = { &lookup };

	if (strlen(name) > HOST_NAME_MAX_LENGTH)
		return "the name is too long";
	strcpy(lookup_name, name);
	memset(&lookup_hints, 0, sizeof(lookup_hints));
	lookup_hints.ai_family = AF_UNSPEC;
	lookup_hints.ai_socktype = SOCK_STREAM;
	lookup.ar_name = lookup_name;
	lookup.ar_request = &lookup_hints;
	if (getaddrinfo_a(GAI_NOWAIT, requests, 1, NULL) != 0) {
		memset(&lookup, 0, sizeof(lookup));
		return "cannot start a lookup";
	}
	return NULL;
}

/* Waits for the lookup until timeout, a signal aside. */
static void lookup_wait(struct timeval timeout)
{
	const struct gaicb *requests[1] = { &lookup };
	struct timespec now, deadline, left;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout.tv_sec;
	deadline.tv_nsec += timeout.tv_usec * 1000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline.tv_sec - now.tv_sec;
		left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0 || gai_error(&lookup) != EAI_INPROGRESS)
			return;
		if (gai_suspend(requests, 1, &left) != EAI_INTR)
			return;
	}
}

const char *resolve_name(const char *name, struct timeval timeout,
                         struct address_list *list)
{
	const char *failure;
	int outcome;

	if (!lookup_release())
		return "an earlier lookup is still waiting for the resolver";
	failure = lookup_start(name);
	if (failure != NULL)
		return failure;
	lookup_wait(timeout);
	outcome = gai_error(&lookup);
	if (outcome == EAI_INPROGRESS) {
		(void)gai_cancel(&lookup);
		return "the resolver did not answer in time";
	}
	if (outcome != 0)
		failure = gai_strerror(outcome);
	else
		failure = address_list_fill(list, lookup.ar_result);
	(void)lookup_release();
	return failure;
}
