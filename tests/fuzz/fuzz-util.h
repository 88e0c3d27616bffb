/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the libFuzzer targets: the input as a file the parsers can open by name. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef FUZZ_EXAMPLE_CONFIG
#define FUZZ_EXAMPLE_CONFIG "config/examples/chaird.conf"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memfd holding the bytes; its /proc/self/fd path into path. Returns the fd (caller closes) or -1. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t path_size) {
        int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

        if (fd < 0)
                return -1;
        if (size > 0 && write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return -1;
        }
        snprintf(path, path_size, "/proc/self/fd/%d", fd);
        return fd;
}
