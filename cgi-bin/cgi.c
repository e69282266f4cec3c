/* cgi.c: reads the CGI request variables and writes CGI responses. Output
 * goes through fcgi_stdio, which is plain stdio when we run as a CGI. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <fcgi_stdio.h>

#include "cgi.h"

#define HEADER_MAX 512
#define ERROR_BODY_MAX 512

/* Returns the variable's value, or fallback when it is unset. */
static const char *env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value != NULL ? value : fallback;
}

/* The path is SCRIPT_NAME followed by PATH_INFO: lighttpd puts it in the
 * first under FastCGI and in the second under CGI with our aliases. A path
 * too long to fit is cut, and then matches none of ours. */
void request_read(struct request *request)
{
	request->method = env_or("REQUEST_METHOD", "");
	snprintf(request->path, sizeof(request->path), "%s%s",
	         env_or("SCRIPT_NAME", ""), env_or("PATH_INFO", ""));
	request->query = env_or("QUERY_STRING", "");
	request->accept = env_or("HTTP_ACCEPT", "");
	request->idempotency_key = getenv("HTTP_IDEMPOTENCY_KEY");
	request->head = strcmp(request->method, "HEAD") == 0;
}

bool request_is(const struct request *request, const char *method)
{
	return strcmp(request->method, method) == 0;
}

bool request_is_read(const struct request *request)
{
	return request_is(request, "GET") || request_is(request, "HEAD");
}

/* Returns the reason phrase of the statuses we send. */
static const char *status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void reply_send(const struct request *request, const struct reply *reply)
{
	char head[HEADER_MAX];
	size_t body_length = reply->body != NULL ? strlen(reply->body) : 0;
	int length;

	length = snprintf(head, sizeof(head),
	                  "Status: %d %s\r\nCache-Control: no-store\r\n",
	                  reply->status, status_reason(reply->status));
	if (reply->content_type != NULL)
		length += snprintf(head + length, sizeof(head) - (size_t)length,
		                   "Content-Type: %s\r\nContent-Length: %zu\r\n",
		                   reply->content_type, body_length);
	if (reply->extra_header != NULL)
		length += snprintf(head + length, sizeof(head) - (size_t)length,
		                   "%s\r\n", reply->extra_header);
	fputs(head, stdout);
	fputs("\r\n", stdout);
	if (!request->head && body_length > 0)
		fputs(reply->body, stdout);
	/* Not flushed here: the end of the request sends it (exit under CGI, the
	 * next FCGI_Accept under FastCGI, in the same write as the end records),
	 * which saves lighttpd a wake-up per request. */
}

/* Writes a JSON error with an optional extra header line. */
static void send_error(const struct request *request, int status,
                       const char *message, const char *extra_header)
{
	char body[ERROR_BODY_MAX];
	struct reply reply = { status, "application/json", body, extra_header };

	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", message);
	reply_send(request, &reply);
}

void reply_error(const struct request *request, int status,
                 const char *message)
{
	send_error(request, status, message,
	           status == 503 ? "Retry-After: 1" : NULL);
}

void reply_not_allowed(const struct request *request, const char *allow)
{
	send_error(request, 405,
	           "this method is not allowed here; the Allow header lists the ones that are",
	           allow);
}
