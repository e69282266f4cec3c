/* remember.c: keeps the addresses of REDIS_HOST that worked in a file in
 * RUN_DIR. start-lighttpd resolves the name once; when that failed (DNS
 * down while the pod started) or those addresses stopped working, every
 * CGI would otherwise resolve the name afresh, for the rest of the pod's
 * life. The first program whose fresh lookup led to a working connection
 * writes it here, and the programs after it try it first. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remember.h"

#define PATH_TEXT_MAX 4096

/* Tells whether the open file is one only this user can have written: a
 * regular file it owns, with no permission for anyone else. */
static bool file_is_private(int fd)
{
	struct stat status;

	return fstat(fd, &status) == 0 && S_ISREG(status.st_mode) &&
	       status.st_uid == geteuid() && (status.st_mode & 077) == 0;
}

void remembered_read(const char *run_dir, struct address_list *list)
{
	char path[PATH_TEXT_MAX], text[ADDRESS_LIST_TEXT_MAX + 1];
	ssize_t got = -1;
	int fd;

	list->count = 0;
	if (run_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/" REMEMBERED_FILE, run_dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (file_is_private(fd))
		got = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (got <= 1 || text[got - 1] != '\n')
		return;
	text[got - 1] = '\0';
	if (!address_list_parse(text, list))
		list->count = 0;
}

void remembered_write(const char *run_dir, const struct address_list *list)
{
	char path[PATH_TEXT_MAX], temporary[PATH_TEXT_MAX];
	char text[ADDRESS_LIST_TEXT_MAX + 1];
	size_t length;
	bool written;
	int fd;

	if (run_dir == NULL || list->count == 0)
		return;
	snprintf(path, sizeof(path), "%s/" REMEMBERED_FILE, run_dir);
	snprintf(temporary, sizeof(temporary), "%s/." REMEMBERED_FILE ".XXXXXX",
	         run_dir);
	address_list_format(list, text);
	length = strlen(text);
	text[length++] = '\n';
	fd = mkstemp(temporary);
	if (fd < 0)
		return;
	written = write(fd, text, length) == (ssize_t)length;
	if (close(fd) != 0)
		written = false;
	if (!written || rename(temporary, path) != 0)
		unlink(temporary);
}
