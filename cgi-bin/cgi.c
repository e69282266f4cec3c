/* cgi.c: reads the CGI request variables and writes CGI responses: to
 * stdout under CGI, to the request's FastCGI stream under FastCGI. */
#include <stdio.h>
#include <string.h>

#include "cgi.h"

#define HEADER_MAX 512
#define ERROR_BODY_MAX 512
#define RETRY_AFTER_MAX 32

/* Returns the variable's value, or fallback when it is unset. FCGX_GetParam
 * reads any NAME=value array, environ included. */
static const char *variable_or(char **variables, const char *name,
                               const char *fallback)
{
	const char *value = FCGX_GetParam(name, variables);

	return value != NULL ? value : fallback;
}

/* The path is SCRIPT_NAME followed by PATH_INFO: lighttpd puts it in the
 * first under FastCGI and in the second under CGI with our aliases. A path
 * too long to fit is cut, and then matches none of ours. */
void request_read(struct request *request, char **variables,
                  FCGX_Stream *out)
{
	request->method = variable_or(variables, "REQUEST_METHOD", "");
	snprintf(request->path, sizeof(request->path), "%s%s",
	         variable_or(variables, "SCRIPT_NAME", ""),
	         variable_or(variables, "PATH_INFO", ""));
	request->query = variable_or(variables, "QUERY_STRING", "");
	request->accept = variable_or(variables, "HTTP_ACCEPT", "");
	request->idempotency_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY",
	                                         variables);
	request->head = strcmp(request->method, "HEAD") == 0;
	request->out = out;
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
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

/* Writes text to the response: stdout under CGI, where it stays buffered
 * until exit, or the FastCGI stream, which libfcgi sends when the request
 * finishes. */
static void response_put(const struct request *request, const char *text)
{
	if (request->out != NULL)
		FCGX_PutS(text, request->out);
	else
		fputs(text, stdout);
}

/* Tells whether an answer reports a store that is stalled or unreachable
 * (503, 504). Such an answer closes the connection, which lighttpd honours:
 * while Redis stalls, a kept-alive client would otherwise hold one of its
 * connection slots (server.max-connections) between retries. */
static bool closes_connection(int status)
{
	return status == 503 || status == 504;
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
	if (closes_connection(reply->status))
		length += snprintf(head + length, sizeof(head) - (size_t)length,
		                   "Connection: close\r\n");
	response_put(request, head);
	response_put(request, "\r\n");
	if (!request->head && body_length > 0)
		response_put(request, reply->body);
	/* Not flushed here: the end of the request sends it (exit under CGI, the
	 * next FCGX_Accept_r under FastCGI, in the same write as the end
	 * records), which saves lighttpd a wake-up per request. */
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
	send_error(request, status, message, NULL);
}

void reply_retry_later(const struct request *request, int retry_after_s,
                       const char *message)
{
	char retry_after[RETRY_AFTER_MAX];

	snprintf(retry_after, sizeof(retry_after), "Retry-After: %d",
	         retry_after_s);
	send_error(request, 503, message, retry_after);
}

void reply_not_allowed(const struct request *request, const char *allow)
{
	send_error(request, 405,
	           "this method is not allowed here; nothing was changed; use one of the methods the Allow header lists",
	           allow);
}
