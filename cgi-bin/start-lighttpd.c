/* start-lighttpd.c: starts lighttpd in the foreground with the project's
 * lighttpd.conf. It needs nothing but itself and lighttpd: no shell, no
 * PATH, so that it can be an image's entrypoint on its own.
 *
 * It gives the optional settings their defaults (lighttpd refuses to start
 * on an unset env.X), checks them all once with clear messages, resolves
 * REDIS_HOST once into REDIS_ADDRESS (so that no request needs a DNS
 * query), makes RUN_DIR, checks that LIGHTTPD_PATH is lighttpd and accepts
 * the configuration, and then becomes lighttpd: signals reach it directly,
 * and SIGINT is its graceful stop.
 *
 *   PORT (8080), BIND_ADDR (127.0.0.1), BACKEND_MODE (cgi or fastcgi),
 *   APP_DIR (this program's directory), CONF_DIR (the one above it),
 *   RUN_DIR (a new directory in $TMPDIR or /tmp), LIGHTTPD_PATH
 *   (/usr/sbin/lighttpd), and the programs' settings (config.c). The Redis
 *   password is never in the environment: the programs read it from
 *   REDIS_PASSWORD_FILE themselves. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "remember.h"
#include "resolve.h"

#define PROGRAM "start-lighttpd"
#define DEFAULT_LIGHTTPD_PATH "/usr/sbin/lighttpd"
#define NUMBER_MAX 24
/* Room for what lighttpd prints for -v or -tt (a few lines at most). */
#define LIGHTTPD_OUTPUT_MAX 2048

/* The settings only this program reads. */
struct launch {
	const char *app_dir;
	const char *conf_dir;
	const char *run_dir;
	const char *mode;
	const char *lighttpd;
	char conf_file[PATH_MAX];
};

/* Prints one message and ends the program: nothing was started. */
#define die(...) \
	do { \
		fprintf(stderr, PROGRAM ": " __VA_ARGS__); \
		exit(1); \
	} while (0)

/* Exports name=value unless name is set and not empty. */
static void default_to(const char *name, const char *value)
{
	const char *current = getenv(name);

	if ((current == NULL || current[0] == '\0') &&
	    setenv(name, value, 1) != 0)
		die("cannot set %s: out of memory\n", name);
}

/* Exports name=value, replacing what was there. */
static void export_setting(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0)
		die("cannot set %s: out of memory\n", name);
}

/* Defaults APP_DIR to the directory of this program (the build puts it
 * next to the programs) and CONF_DIR to the one above (lighttpd.conf). */
static void default_directories(void)
{
	char self[PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (length <= 0)
		die("cannot find where this program is (/proc/self/exe); set APP_DIR and CONF_DIR\n");
	self[length] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		die("this program's path %s has no directory; set APP_DIR and CONF_DIR\n", self);
	*slash = '\0';
	default_to("APP_DIR", self[0] != '\0' ? self : "/");
	slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	default_to("CONF_DIR", self[0] != '\0' ? self : "/");
}

/* Makes a new RUN_DIR unless one is given, and creates it and its empty
 * document root: lighttpd keeps uploads and FastCGI sockets there, and the
 * programs the addresses of REDIS_HOST they found (remember.c). */
static void make_run_dir(struct launch *launch)
{
	static char made[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];

	if (launch->run_dir == NULL || launch->run_dir[0] == '\0') {
		snprintf(made, sizeof(made), "%s/moneybank.XXXXXX",
		         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
		if (mkdtemp(made) == NULL)
			die("cannot make a RUN_DIR in %s: %s\n", made, strerror(errno));
		launch->run_dir = made;
		export_setting("RUN_DIR", made);
	}
	if (mkdir(launch->run_dir, 0700) != 0 && errno != EEXIST)
		die("cannot make RUN_DIR %s: %s\n", launch->run_dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/empty", launch->run_dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		die("cannot make %s: %s\n", path, strerror(errno));
	/* Addresses a program kept before a restart are older than ours; one
	 * that cannot be removed is not ours, and the programs ignore it. */
	snprintf(path, sizeof(path), "%s/" REMEMBERED_FILE, launch->run_dir);
	(void)unlink(path);
}

/* Fails unless the file is there and executable. */
static void require_program(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, X_OK) != 0)
		die("no program %s in APP_DIR %s; run 'make build' first\n", name, dir);
}

/* Refuses a relative directory: lighttpd would look for the programs, the
 * error pages or its sockets relative to wherever it runs, find none, and
 * answer every request, /livez included, with its own 500. */
static void require_absolute(const char *name, const char *dir)
{
	if (dir != NULL && dir[0] != '\0' && dir[0] != '/')
		die("%s must be an absolute path, not '%s'\n", name, dir);
}

/* Runs lighttpd with one option and the config file, its output (stdout
 * and stderr) into output, and returns its exit status, or -1 when it
 * could not run or was killed. */
static int run_lighttpd(const struct launch *launch, const char *option,
                        char output[LIGHTTPD_OUTPUT_MAX])
{
	int pipe_fds[2], status = -1;
	size_t used = 0;
	ssize_t got;
	pid_t child;

	output[0] = '\0';
	if (pipe(pipe_fds) != 0)
		return -1;
	child = fork();
	if (child == 0) {
		(void)dup2(pipe_fds[1], STDOUT_FILENO);
		(void)dup2(pipe_fds[1], STDERR_FILENO);
		(void)close(pipe_fds[0]);
		execl(launch->lighttpd, "lighttpd", option, "-f",
		      launch->conf_file, (char *)NULL);
		_exit(127);
	}
	(void)close(pipe_fds[1]);
	while (child > 0 &&
	       (got = read(pipe_fds[0], output + used,
	                   LIGHTTPD_OUTPUT_MAX - 1 - used)) != 0) {
		if (got > 0)
			used += (size_t)got;
		else if (errno != EINTR)
			break;
		output[used] = '\0';
		if (used == LIGHTTPD_OUTPUT_MAX - 1)
			break;
	}
	(void)close(pipe_fds[0]);
	if (child > 0 && waitpid(child, &status, 0) == child)
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return child > 0 ? status : -1;
}

/* Checks that LIGHTTPD_PATH is lighttpd (its -v names it) and that it
 * accepts the configuration as it will run (-tt: every module loaded and
 * every setting checked, nothing bound or started), so that a wrong
 * program or a config lighttpd refuses stops here, with its reason,
 * instead of exiting silently or serving nothing. */
static void check_lighttpd(const struct launch *launch)
{
	char output[LIGHTTPD_OUTPUT_MAX];

	if (run_lighttpd(launch, "-v", output) != 0 ||
	    strncmp(output, "lighttpd/", strlen("lighttpd/")) != 0)
		die("LIGHTTPD_PATH %s is not lighttpd: '%s -v' did not print its version\n",
		    launch->lighttpd, launch->lighttpd);
	if (run_lighttpd(launch, "-tt", output) != 0)
		die("lighttpd refuses %s:\n%s", launch->conf_file, output);
}

/* Refuses a password in the environment: every process lighttpd starts
 * would show it in /proc/PID/environ. It belongs in a file. */
static void refuse_password_in_environment(void)
{
	const char *password = getenv("REDIS_PASSWORD");

	if (password != NULL && password[0] != '\0')
		die("REDIS_PASSWORD is no longer read: a secret in the environment shows in /proc/PID/environ of "
		    "every process; put the password in a file and set REDIS_PASSWORD_FILE (and REDIS_USER)\n");
}

/* Reads this program's settings and checks them all, and the programs'
 * settings through config.c, as the programs themselves will (the password
 * file included: it must be readable by this user, as by the programs). */
static void check_settings(struct launch *launch, struct config *config)
{
	const char *port = getenv("PORT"), *problem;
	char *end;
	long number;

	refuse_password_in_environment();
	problem = config_load(config);
	launch->app_dir = getenv("APP_DIR");
	launch->conf_dir = getenv("CONF_DIR");
	launch->run_dir = getenv("RUN_DIR");
	launch->mode = getenv("BACKEND_MODE");
	launch->lighttpd = getenv("LIGHTTPD_PATH");
	if (strcmp(launch->mode, "cgi") != 0 && strcmp(launch->mode, "fastcgi") != 0)
		die("BACKEND_MODE must be cgi or fastcgi, not '%s'\n", launch->mode);
	errno = 0;
	number = strtol(port, &end, 10);
	if (errno != 0 || *end != '\0' || port[0] < '0' || port[0] > '9' ||
	    number < 1 || number > 65535)
		die("PORT must be a port number from 1 to 65535, not '%s'\n", port);
	require_absolute("APP_DIR", launch->app_dir);
	require_absolute("CONF_DIR", launch->conf_dir);
	require_absolute("RUN_DIR", launch->run_dir);
	if (problem != NULL)
		die("bad configuration: %s\n", problem);
	require_program(launch->app_dir, "bitcoins.cgi");
	require_program(launch->app_dir, "healthz.cgi");
	snprintf(launch->conf_file, sizeof(launch->conf_file), "%s/lighttpd.conf",
	         launch->conf_dir);
	if (access(launch->conf_file, R_OK) != 0)
		die("cannot read %s: %s; set CONF_DIR to the directory of lighttpd.conf\n",
		    launch->conf_file, strerror(errno));
	if (access(launch->lighttpd, X_OK) != 0)
		die("cannot run lighttpd at %s: %s; install lighttpd or set LIGHTTPD_PATH\n",
		    launch->lighttpd, strerror(errno));
}

/* Exports the programs' settings with the values they will use, defaults
 * included, because lighttpd.conf forwards each of them by name. */
static void export_program_settings(const struct config *config)
{
	char number[NUMBER_MAX];

	export_setting("REDIS_HOST", config->redis_host);
	snprintf(number, sizeof(number), "%d", config->redis_port);
	export_setting("REDIS_PORT", number);
	default_to("REDIS_USER", "");
	default_to("REDIS_PASSWORD_FILE", "");
	snprintf(number, sizeof(number), "%lld", config->max_deposit);
	export_setting("MAX_DEPOSIT", number);
	snprintf(number, sizeof(number), "%lld",
	         (long long)config->redis_timeout.tv_sec * 1000 +
	         config->redis_timeout.tv_usec / 1000);
	export_setting("REDIS_TIMEOUT_MS", number);
	snprintf(number, sizeof(number), "%ld", config->idempotency_ttl_s);
	export_setting("IDEMPOTENCY_TTL_S", number);
}

/* Resolves REDIS_HOST once, within REDIS_TIMEOUT_MS, into REDIS_ADDRESS:
 * every address the name has (localhost: ::1 and 127.0.0.1), which the
 * programs try in turn without any DNS query. The ClusterIP of a Service
 * stays the same for as long as the Service exists; should it be
 * recreated, the programs resolve the name again when the addresses fail.
 * A name that does not resolve now is no reason to refuse to start: the
 * programs then resolve it on each request, in the same time limit. */
static void resolve_redis_host(const struct config *config)
{
	struct address_list found = { .count = 0 };
	char addresses[ADDRESS_LIST_TEXT_MAX];
	const char *failure = NULL;

	if (address_is_numeric(config->redis_host))
		(void)address_list_parse(config->redis_host, &found);
	else
		failure = resolve_name(config->redis_host, config->redis_timeout,
		                       &found);
	if (failure != NULL)
		fprintf(stderr, PROGRAM ": cannot resolve REDIS_HOST %s now (%s); "
		        "each request will resolve it, within REDIS_TIMEOUT_MS\n",
		        config->redis_host, failure);
	address_list_format(&found, addresses);
	export_setting("REDIS_ADDRESS", addresses);
}

int main(void)
{
	struct launch launch;
	struct config config;

	default_to("PORT", "8080");
	default_to("BIND_ADDR", "127.0.0.1");
	default_to("BACKEND_MODE", "cgi");
	default_to("LIGHTTPD_PATH", DEFAULT_LIGHTTPD_PATH);
	default_directories();
	unsetenv("REDIS_ADDRESS");
	check_settings(&launch, &config);
	export_program_settings(&config);
	resolve_redis_host(&config);
	make_run_dir(&launch);
	check_lighttpd(&launch);
	fprintf(stderr, PROGRAM ": lighttpd on http://%s:%s (%s mode, Redis %s:%d at %s)\n",
	        getenv("BIND_ADDR"), getenv("PORT"), launch.mode,
	        config.redis_host, config.redis_port,
	        getenv("REDIS_ADDRESS")[0] != '\0' ? getenv("REDIS_ADDRESS") : "an address resolved per request");
	execl(launch.lighttpd, "lighttpd", "-D", "-f", launch.conf_file,
	      (char *)NULL);
	die("cannot run %s: %s\n", launch.lighttpd, strerror(errno));
}
