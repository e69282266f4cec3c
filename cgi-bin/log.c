/* log.c: formats a line, then writes it in one piece. Under CGI stderr is
 * unbuffered and goes to lighttpd's error log; under FastCGI the line
 * travels to lighttpd with the end of the request, before the response, in
 * one write. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

#define LOG_LINE_MAX 512

/* The error stream of the FastCGI request being answered, or NULL. */
static FCGX_Stream *log_stream;

void log_use_stream(FCGX_Stream *stream)
{
	log_stream = stream;
}

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
	if (log_stream != NULL)
		FCGX_PutS(line, log_stream);
	else
		fputs(line, stderr);
}
