/* noop.c: the benchmark's floor. A CGI that does no work and answers like
 * GET /v1/bitcoins does, so that make bench can tell what fork and exec
 * cost. Built by the Makefile with the programs' own flags, never shipped. */
#include <stdio.h>

int main(void)
{
	fputs("Status: 200 OK\r\nCache-Control: no-store\r\n"
	      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\n"
	      "\r\n0", stdout);
	return 0;
}
