/* remember.h: the addresses of REDIS_HOST that a fresh lookup found and a
 * connect proved, kept in RUN_DIR for the programs that start later. */
#ifndef MONEYBANK_REMEMBER_H
#define MONEYBANK_REMEMBER_H

#include "resolve.h"

/* The file in RUN_DIR that keeps them. */
#define REMEMBERED_FILE "redis-address"

/* Reads the addresses kept in run_dir into list; leaves list empty when
 * there are none, or the file is not a private file of this user holding
 * numeric addresses (anything else is ignored, never trusted). */
void remembered_read(const char *run_dir, struct address_list *list);

/* Keeps list in run_dir for later programs: written to a new private file,
 * then renamed over the old one, so that a reader sees the old list or the
 * new one, never a part. Failing to is harmless: later programs resolve the
 * name again. */
void remembered_write(const char *run_dir, const struct address_list *list);

#endif
