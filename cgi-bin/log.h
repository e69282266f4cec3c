/* log.h: one-line messages for the operator, on the server's error log. */
#ifndef MONEYBANK_LOG_H
#define MONEYBANK_LOG_H

#include <fcgiapp.h>

/* Sends the lines of the FastCGI request being answered to its error stream,
 * which lighttpd writes to its error log; NULL (under CGI, and between
 * FastCGI requests) sends them to stderr. */
void log_use_stream(FCGX_Stream *stream);

/* Writes one line to the error log. */
void log_line(const char *format, ...) __attribute__((format(__printf__, 1, 2)));

#endif
