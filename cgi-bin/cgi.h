/* cgi.h: the CGI/1.1 side of a request: what lighttpd tells us about it, and
 * the response we write back. Works the same under CGI and FastCGI. */
#ifndef MONEYBANK_CGI_H
#define MONEYBANK_CGI_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>

#define REQUEST_PATH_MAX 64

struct request {
	const char *method;          /* REQUEST_METHOD */
	char path[REQUEST_PATH_MAX]; /* the public path that was routed to us */
	const char *query;           /* QUERY_STRING, "" when absent */
	const char *accept;          /* Accept header, "" when absent */
	const char *idempotency_key; /* Idempotency-Key header, NULL when absent */
	bool head;                   /* HEAD: answer as GET, without a body */
	FCGX_Stream *out;            /* FastCGI response stream; NULL: stdout */
};

/* The parts of a response; a NULL content_type means no body. */
struct reply {
	int status;
	const char *content_type;
	const char *body;
	const char *extra_header; /* one complete "Name: value" line, or NULL */
};

/* Reads the current request from its CGI variables: environ under CGI, the
 * request's parameters under FastCGI. The response goes to out, or to
 * stdout when out is NULL. */
void request_read(struct request *request, char **variables,
                  FCGX_Stream *out);

/* Tells whether the request uses the given method. */
bool request_is(const struct request *request, const char *method);

/* Tells whether the request is a GET or a HEAD. */
bool request_is_read(const struct request *request);

/* Writes a complete CGI response to stdout. */
void reply_send(const struct request *request, const struct reply *reply);

/* Writes a JSON error {"error":message}; message is a constant without
 * quotes or backslashes. A 503 or 504 also closes the connection. */
void reply_error(const struct request *request, int status,
                 const char *message);

/* Writes a 503 JSON error that says, in Retry-After, how many seconds to
 * wait before trying again. */
void reply_retry_later(const struct request *request, int retry_after_s,
                       const char *message);

/* Writes a 405 JSON error; allow is the whole "Allow: ..." header line. */
void reply_not_allowed(const struct request *request, const char *allow);

#endif
