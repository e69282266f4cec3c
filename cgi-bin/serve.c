/* serve.c: what every request needs before the API logic runs. The same
 * binary is a CGI (FCGI_Accept returns once) or a FastCGI responder (it
 * returns for each request, and the Redis connection is kept between them). */
#include <signal.h>

#include <fcgi_stdio.h>

#include "config.h"
#include "log.h"
#include "serve.h"

void reply_store_error(const struct request *request, enum store_status status)
{
	switch (status) {
	case STORE_OVERFLOW:
		reply_error(request, 409, "this deposit would take the total past 9223372036854775807; nothing was added");
		break;
	case STORE_KEY_REUSED:
		reply_error(request, 422, "this Idempotency-Key was already used with a different amount; nothing was added; use a new key for a new deposit");
		break;
	case STORE_NOT_INTEGER:
		reply_error(request, 500, "the stored total is not an integer; nothing was changed; an operator must repair the Redis key bitcoins");
		break;
	case STORE_AUTH_REJECTED:
		reply_error(request, 503, "Redis unavailable: it rejected our credentials; an operator must check REDIS_PASSWORD");
		break;
	case STORE_UNAVAILABLE:
	case STORE_OK:
		reply_error(request, 503, "Redis unavailable: it did not answer in time; try again shortly");
		break;
	}
}

int serve(handler *handle)
{
	struct config config;
	struct store store;
	struct request request;
	const char *config_error = config_load(&config);

	/* A peer that hangs up must give EPIPE, not kill us mid-request. */
	signal(SIGPIPE, SIG_IGN);
	store_init(&store, &config);
	while (FCGI_Accept() >= 0) {
		request_read(&request);
		if (config_error == NULL) {
			handle(&request, &store);
			continue;
		}
		log_line("%s", config_error);
		reply_error(&request, 500, config_error);
	}
	store_close(&store);
	return 0;
}
