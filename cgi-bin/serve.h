/* serve.h: the request loop both programs share. */
#ifndef MONEYBANK_SERVE_H
#define MONEYBANK_SERVE_H

#include "cgi.h"
#include "store.h"

/* Answers one request. */
typedef void handler(const struct request *request, struct store *store);

/* Answers a failed store operation with the status and JSON reason it
 * deserves: 409, 422, 500, or 503 when Redis is unavailable. */
void reply_store_error(const struct request *request, enum store_status status);

/* Reads the configuration once, then answers requests with handle until
 * there are no more: one under CGI, many under FastCGI. Returns the exit
 * status for main. */
int serve(handler *handle);

#endif
