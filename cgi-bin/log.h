/* log.h: one-line messages for the operator, on the server's error log. */
#ifndef MONEYBANK_LOG_H
#define MONEYBANK_LOG_H

/* Writes one line to stderr, which lighttpd sends to its error log. */
void log_line(const char *format, ...) __attribute__((format(__printf__, 1, 2)));

#endif
