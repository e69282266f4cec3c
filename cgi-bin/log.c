/* log.c: formats with the C library, because fcgi_stdio's own printf does
 * not know every conversion, then writes the line to stderr in one piece.
 * Under CGI stderr is unbuffered; under FastCGI the line travels to lighttpd
 * with the end of the request, before the response, in one write. */
#include <stdarg.h>
#include <stdio.h>

#include <fcgi_stdio.h>

#include "log.h"

#define LOG_LINE_MAX 512

void log_line(const char *format, ...)
{
	char line[LOG_LINE_MAX];
	va_list arguments;
	int length;

	va_start(arguments, format);
	length = vsnprintf(line, sizeof(line) - 1, format, arguments);
	va_end(arguments);
	if (length < 0)
		return;
	if ((size_t)length > sizeof(line) - 2)
		length = (int)sizeof(line) - 2;
	line[length] = '\n';
	line[length + 1] = '\0';
	fputs(line, stderr);
}
