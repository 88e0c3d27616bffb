/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small file helpers: crash-safe replacement of a file, and reading a whole small file. */
#pragma once

#include <stddef.h>

/* Writes data to dir/name so that after a crash or power cut the file holds either the old or the new
 * content, never a mix: temp file in the same folder, fsync, rename, fsync the folder. */
int write_file_atomic(const char *dir, const char *name, const char *data, size_t len);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer the caller frees. */
int read_file_full(const char *path, size_t max, char **ret, size_t *ret_len);

/* mkdir -p with the given mode for each missing component. */
int mkdir_p(const char *path, unsigned mode);
