/* serve.c: what every request needs before the API logic runs. The same
 * binary is a CGI (one request: variables in environ, response on stdout)
 * or a FastCGI responder (lighttpd starts it on a listening socket; it
 * answers request after request and keeps its Redis connection between
 * them). */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <fcgiapp.h>

#include "config.h"
#include "log.h"
#include "serve.h"

#define DISCARD_MAX 1024
/* lighttpd passes a FastCGI responder its listening socket as stdin. */
#define LISTEN_SOCKET 0

/* The process environment: a CGI's request variables. */
extern char **environ;

/* What answering a request needs besides the request itself. */
struct server {
	handler *handle;
	struct store store;
	const char *config_error; /* NULL when the configuration is valid */
};

/* Answers one request, or 500 when the configuration is invalid. */
static void answer(struct server *server, char **variables, FCGX_Stream *out)
{
	struct request request;

	request_read(&request, variables, out);
	if (server->config_error == NULL) {
		server->handle(&request, &server->store);
		return;
	}
	log_line("%s", server->config_error);
	reply_error(&request, 500, "the server is misconfigured; nothing was changed; try again later, and tell the bank's operator if it persists");
}

/* Lets libfcgi close the connection as soon as the request is finished.
 * By default it shuts down its side and then waits in select() until
 * lighttpd closes first (so that data lighttpd sent and we never read
 * cannot turn into a reset): one more sleep and wake-up per request. Here
 * the rest of the request body is read first, which costs nothing in
 * practice (lighttpd has the whole body before it calls us, sends it right
 * after the parameters, and it is at most 1 kB), so nothing is left unread
 * and lighttpd has nothing more to send: the plain close is safe. After a
 * read error the careful close stays. */
static void release_early(FCGX_Request *fcgi)
{
	char discard[DISCARD_MAX];

	while (FCGX_GetStr(discard, sizeof(discard), fcgi->in) > 0)
		continue;
	if (FCGX_HasSeenEOF(fcgi->in) != 0 && FCGX_GetError(fcgi->in) == 0)
		(void)FCGX_Detach(fcgi);
}

/* Tells whether lighttpd has queued another request for this process
 * while it was busy: a connection already waits on the listening socket. */
static bool request_queued(void)
{
	struct pollfd listener = { .fd = LISTEN_SOCKET, .events = POLLIN };

	return poll(&listener, 1, 0) > 0;
}

/* Tells whether lighttpd gave up on the request in hand while it waited
 * in the socket's listen queue: its client left, or its read-timeout
 * (mode-fastcgi.conf) passed and the client got lighttpd's 504. lighttpd
 * then closed its end; it sends no half-close otherwise (fastcgi.server's
 * "tcp-fin-propagate" would, and stays off). Running such a request would
 * apply a deposit no client hears about. */
static bool request_abandoned(const FCGX_Request *fcgi)
{
	struct pollfd peer = { .fd = fcgi->ipcFd, .events = POLLRDHUP };

	return poll(&peer, 1, 0) > 0 &&
	       (peer.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Answers FastCGI requests until lighttpd stops us. Each request's log
 * lines go to its error stream, which libfcgi sends with the response. */
static void answer_requests(struct server *server, FCGX_Request *fcgi)
{
	bool queued = false;

	while (FCGX_Accept_r(fcgi) >= 0) {
		store_set_queued(&server->store, queued);
		if (request_abandoned(fcgi)) {
			/* to stderr: lighttpd no longer reads this request's */
			log_line("lighttpd gave up on this request before it ran (its client left, or it waited past fastcgi.server's read-timeout); nothing was done");
		} else {
			log_use_stream(fcgi->err);
			answer(server, fcgi->envp, fcgi->out);
		}
		release_early(fcgi);
		log_use_stream(NULL);
		queued = request_queued();
	}
	FCGX_Finish_r(fcgi);
}

/* Runs as a FastCGI responder on the socket lighttpd gave us. FCGX_Init
 * installs libfcgi's handlers: SIGTERM and SIGUSR1 then end the process
 * after the request in hand (lighttpd stops its responders with SIGTERM),
 * and SIGPIPE gets an empty handler, which we put back to ignored. */
static void serve_fastcgi(struct server *server)
{
	FCGX_Request fcgi;

	if (FCGX_Init() == 0 && FCGX_InitRequest(&fcgi, LISTEN_SOCKET, 0) == 0) {
		signal(SIGPIPE, SIG_IGN);
		answer_requests(server, &fcgi);
	} else {
		log_line("cannot set up the FastCGI request");
	}
}

/* Answers the one request of a CGI. SIGTERM gets its default action, and
 * is unblocked should the parent have left it blocked, so that lighttpd
 * (which sends it when the client goes away or its read-timeout passes)
 * ends a CGI stuck on Redis at once. */
static void serve_cgi(struct server *server)
{
	sigset_t terminate;

	sigemptyset(&terminate);
	sigaddset(&terminate, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &terminate, NULL);
	signal(SIGTERM, SIG_DFL);
	answer(server, environ, NULL);
}

/* Tells whether lighttpd started us as a FastCGI responder: its stdin is
 * then a listening socket; a CGI's is a pipe, /dev/null or a terminal. This
 * is decided without libfcgi, whose FCGX_IsCGI() initialises the library
 * and so installs its signal handlers, a CGI's included. */
static bool started_as_fastcgi(void)
{
	int listening = 0;
	socklen_t length = sizeof(listening);

	return getsockopt(LISTEN_SOCKET, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	                  &length) == 0 && listening != 0;
}

/* Keeps the Redis password, read next, out of core files and out of other
 * processes' reach: no core, whatever limit the runtime gave us (a node
 * whose core_pattern pipes to systemd-coredump would keep it on its disk),
 * and not dumpable, so the kernel makes /proc/PID/{environ,mem,...} root's
 * and no other process of our user may read or trace our memory. */
static void keep_memory_private(void)
{
	const struct rlimit no_core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		log_line("cannot set the core size limit to 0");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_line("cannot make the process not dumpable");
}

int serve(handler *handle)
{
	struct server server = { handle, { 0 }, NULL };
	struct config config;

	keep_memory_private();
	server.config_error = config_load(&config);
	/* A peer that hangs up must give EPIPE, not kill us mid-request. */
	signal(SIGPIPE, SIG_IGN);
	store_init(&server.store, &config);
	if (started_as_fastcgi())
		serve_fastcgi(&server);
	else
		serve_cgi(&server);
	store_close(&server.store);
	return 0;
}
