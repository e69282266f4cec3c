/* serve.h: the request loop both programs share. */
#ifndef MONEYBANK_SERVE_H
#define MONEYBANK_SERVE_H

#include "cgi.h"
#include "store.h"

/* Answers one request. */
typedef void handler(const struct request *request, struct store *store);

/* Reads the configuration once, then answers requests with handle until
 * there are no more: one under CGI, many under FastCGI. Returns the exit
 * status for main. */
int serve(handler *handle);

#endif
