/* serve.c: what every request needs before the API logic runs. The same
 * binary is a CGI (FCGI_Accept returns once) or a FastCGI responder (it
 * returns for each request, and the Redis connection is kept between them). */
#include <signal.h>

#include <fcgi_stdio.h>

#include "config.h"
#include "log.h"
#include "serve.h"

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
