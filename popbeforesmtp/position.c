/*
 * NAME
 *	position 3
 * SUMMARY
 *	finding a saved read position again: file identity, line hash, rotated files
 * SYNOPSIS
 *	#include "position.h"
 * DESCRIPTION
 *	See position.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "position.h"

/* timespec_after - a is later than b */
static bool timespec_after(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* follow_line_hash - FNV-1a of the line's last FOLLOW_HASH_SPAN bytes */
uint64_t follow_line_hash(const char *line, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	if (len > FOLLOW_HASH_SPAN) {
		line += len - FOLLOW_HASH_SPAN;
		len = FOLLOW_HASH_SPAN;
	}
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)line[i];
		h *= 0x100000001b3ULL;
	}
	return h == 0 ? 1 : h;
}

/* hash_before - the hash of the line that ends at offset in fd */
static int hash_before(int fd, uint64_t offset, uint64_t *hash_r)
{
	char tmp[FOLLOW_HASH_SPAN + 2];
	size_t n = offset < sizeof(tmp) ? (size_t)offset : sizeof(tmp), end, start;
	ssize_t got;

	if (offset == 0) {
		*hash_r = 0;
		return 0;
	}
	got = pread(fd, tmp, n, (off_t)(offset - n));
	if (got != (ssize_t)n)
		return -1;
	/* A line ends with its newline, or (last line of a rotated file) at EOF. */
	end = tmp[n - 1] == '\n' ? n - 1 : n;
	for (start = end; start > 0 && tmp[start - 1] != '\n'; start--)
		;
	*hash_r = follow_line_hash(tmp + start, end - start);
	return 0;
}

/* position_matches - fd holds, at pos->offset, the line pos->line_hash names */
bool position_matches(int fd, const struct follow_position *pos)
{
	struct stat st;
	uint64_t h;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < pos->offset)
		return false;
	return hash_before(fd, pos->offset, &h) == 0 && h == pos->line_hash;
}

/* open_regular - open path for reading; -1 with errno (EINVAL: not a file) */
int position_open(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* is_compressed - rotated files that cannot be read as text */
static bool is_compressed(const char *name)
{
	static const char *const ext[] = { ".gz", ".bz2", ".xz", ".zst", ".Z", ".lz4", ".lzma", NULL };
	size_t n = strlen(name);

	for (size_t i = 0; ext[i] != NULL; i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(name + n - e, ext[i]) == 0)
			return true;
	}
	return false;
}

/* next_sibling - opens the next file of d named base + something (a rotated
   copy such as mail.log.1), compressed ones skipped; its path goes to
   path_r (size PATH_MAX_LEN). Returns the fd, or -1 when d has no more. */
#define PATH_MAX_LEN 4096
static int next_sibling(DIR *d, const char *dir, const char *base, char *path_r)
{
	size_t blen = strlen(base);
	struct dirent *de;
	int fd;

	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] == '\0'
		    || is_compressed(de->d_name))
			continue;
		if (snprintf(path_r, PATH_MAX_LEN, "%s/%s", dir, de->d_name) >= PATH_MAX_LEN)
			continue;
		if ((fd = position_open(path_r)) >= 0)
			return fd;
	}
	return -1;
}

/* position_find_rotated - the file (other than path) in path's directory that holds
   the checkpoint: the same identity, else (copytruncate leaves a copy) the
   same line at the same offset. Returns an open fd, or -1. */
int position_find_rotated(const char *dir, const char *base, const char *name,
			  const struct follow_position *pos)
{
	DIR *d = opendir(dir);
	char path[PATH_MAX_LEN];
	int copy_fd = -1, fd;

	if (d == NULL)
		return -1;
	while ((fd = next_sibling(d, dir, base, path)) >= 0) {
		struct stat st;

		if (fstat(fd, &st) == 0 && (uint64_t)st.st_dev == pos->dev
		    && (uint64_t)st.st_ino == pos->ino && position_matches(fd, pos)) {
			if (copy_fd >= 0)
				close(copy_fd);
			closedir(d);
			log_info("%s: the checkpoint's file is now %s", name, path);
			return fd;
		}
		if (copy_fd < 0 && pos->offset > 0 && position_matches(fd, pos)) {
			log_info("%s: %s holds the checkpoint's line (a copy)", name, path);
			copy_fd = fd;
			continue;
		}
		close(fd);
	}
	closedir(d);
	return copy_fd;
}

/* position_find_successor - the rotated file written right after done (the oldest
   one modified later than done, and not the current file), or -1 */
int position_find_successor(const char *dir, const char *base, const struct stat *done, int cur_fd,
			    const char *cur_path)
{
	DIR *d = opendir(dir);
	char path[PATH_MAX_LEN];
	struct stat cur, best_st = { 0 };
	int best = -1, fd;
	bool have_cur = cur_fd >= 0 ? fstat(cur_fd, &cur) == 0 : stat(cur_path, &cur) == 0;

	if (d == NULL)
		return -1;
	while ((fd = next_sibling(d, dir, base, path)) >= 0) {
		struct stat st;

		if (fstat(fd, &st) < 0 || (st.st_dev == done->st_dev && st.st_ino == done->st_ino)
		    || (have_cur && st.st_dev == cur.st_dev && st.st_ino == cur.st_ino)
		    || !timespec_after(&st.st_mtim, &done->st_mtim)
		    || (best >= 0 && !timespec_after(&best_st.st_mtim, &st.st_mtim))) {
			close(fd);
			continue;
		}
		if (best >= 0)
			close(best);
		best = fd;
		best_st = st;
	}
	closedir(d);
	return best;
}
