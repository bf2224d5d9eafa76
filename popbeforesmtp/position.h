/*
 * NAME
 *	position 3h
 * SUMMARY
 *	finding a saved read position again: file identity, line hash, rotated files
 * SYNOPSIS
 *	#include "position.h"
 * DESCRIPTION
 *	A position (struct follow_position) names a file by device and inode
 *	and a place in it by offset and the hash of the line that ends there.
 *	After a restart the file may have been rotated (renamed: same
 *	identity, another name; copytruncate: a copy with the same content
 *	under another name) or rewritten. These functions find it again in
 *	the source's directory among the names that start with the source's
 *	base name (mail.log.1, mail.log-20261126, ...; compressed files are
 *	skipped: they cannot be read as text).
 */
#ifndef AUTHRELAY_POSITION_H
#define AUTHRELAY_POSITION_H

#include <stdbool.h>
#include <sys/stat.h>

#include "follow.h"

/* Opens a regular file for reading. Returns the fd, or -1 with errno
   (EINVAL: not a regular file). */
int position_open(const char *path);

/* Returns true when fd is at least pos->offset long and the line ending
   there hashes to pos->line_hash. */
bool position_matches(int fd, const struct follow_position *pos);

/* The rotated file (dir/base*, not base itself) holding pos: by identity
   first, else the first copy holding the same line at the same offset.
   Returns an open fd, or -1. name is for the log. */
int position_find_rotated(const char *dir, const char *base, const char *name,
			  const struct follow_position *pos);

/* The rotated file written right after the file done: the oldest one
   modified later than done that is neither done nor the current file
   (cur_fd when >= 0, else cur_path). Returns an open fd, or -1. */
int position_find_successor(const char *dir, const char *base, const struct stat *done,
			    int cur_fd, const char *cur_path);

#endif
