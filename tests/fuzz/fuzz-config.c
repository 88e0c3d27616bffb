/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the OEM config parser and validator (config_load_files) on arbitrary bytes, alone
 * and as a drop-in over the example chair; every config that loads is also planned into Modbus
 * requests (hw_plan_build), whose invariants are checked, and dumped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz-util.h"
#include "hw.h"
#include "macro.h"

/* Every configured signal sits in exactly one block of its board and kind, inside the block. */
static void plan_check(const Config *c, const HwPlan *p) {
        for (size_t i = 0; i < c->n_signals; i++) {
                const SignalConfig *s = &c->signals[i];
                unsigned b = p->signal_block[i], off = p->signal_offset[i];

                if (b >= p->n_blocks)
                        abort();
                const HwBlock *blk = &p->blocks[b];
                if (blk->board != s->board || blk->kind != s->kind)
                        abort();
                if (off + value_type_registers(s->type) > blk->count || blk->address + off != s->address)
                        abort();
        }
}

static void load_and_plan(char **files, size_t n) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        HwPlan plan = {};

        if (config_load_files(files, n, &c, &error) < 0) {
                if (!error || !error[0]) /* a refusal always says why */
                        abort();
                return;
        }
        if (hw_plan_build(c, &plan) >= 0) {
                plan_check(c, &plan);
                hw_plan_done(&plan);
        }
        FILE *null = fopen("/dev/null", "we");
        if (null) {
                config_dump(c, null);
                fclose(null);
        }
        config_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char path[64];
        int fd = fuzz_memfd(data, size, path, sizeof path);

        if (fd < 0)
                return 0;
        char *alone[] = { path };
        load_and_plan(alone, 1);

        char *dropin[] = { (char *) FUZZ_EXAMPLE_CONFIG, path };
        load_and_plan(dropin, 2);
        close(fd);
        return 0;
}
