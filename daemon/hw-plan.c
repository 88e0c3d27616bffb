/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Batching: turns the configured signal map into as few Modbus requests ("blocks") as the map and the
 * PDU limits allow. Pure: no I/O, no clock; built once per config and unit tested. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "log.h"

/* One thing that occupies registers: a configured signal or a board's heartbeat register. */
typedef struct PlanItem {
        unsigned board;
        bool write;
        RegisterKind kind;
        unsigned address;
        unsigned count;
        int signal; /* index into Config.signals; -1 for the heartbeat register */
} PlanItem;

static bool register_kind_is_bits(RegisterKind k) {
        return k == REGISTER_COIL || k == REGISTER_DISCRETE;
}

/* Modbus application protocol v1.1b §6: the most one request may carry. */
static unsigned plan_limit(RegisterKind kind, bool write) {
        if (register_kind_is_bits(kind))
                return write ? 1968 : 2000;
        return write ? 123 : 125;
}

static int plan_item_compare(const void *a, const void *b) {
        const PlanItem *x = a, *y = b;

        /* Total order, so the plan is the same for the same config on every run. */
        if (x->board != y->board)
                return x->board < y->board ? -1 : 1;
        if (x->write != y->write)
                return x->write ? 1 : -1;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        if (x->address != y->address)
                return x->address < y->address ? -1 : 1;
        if (x->count != y->count)
                return x->count > y->count ? -1 : 1;
        return x->signal < y->signal ? -1 : x->signal > y->signal;
}

static int plan_item_from_signal(const Config *c, size_t i, PlanItem *ret) {
        const SignalConfig *s = &c->signals[i];
        bool write = signal_id_direction(s->id) == SIGNAL_OUT;
        unsigned count;

        if (s->board >= c->n_boards)
                return log_error_errno(-EINVAL, "Signal %s refers to board %u of %zu.",
                                       signal_id_to_string(s->id), s->board, c->n_boards);
        if (s->kind < 0 || s->kind >= _REGISTER_KIND_MAX)
                return log_error_errno(-EINVAL, "Signal %s has an invalid register kind.",
                                       signal_id_to_string(s->id));
        /* Outputs are written every cycle: only coils and holding registers can be written. */
        if (write && (s->kind == REGISTER_INPUT || s->kind == REGISTER_DISCRETE))
                return log_error_errno(-EINVAL, "Output signal %s is mapped to a read-only %s register.",
                                       signal_id_to_string(s->id), register_kind_to_string(s->kind));

        count = register_kind_is_bits(s->kind) ? 1 : value_type_registers(s->type);
        if (s->address + count > 0x10000)
                return log_error_errno(-EINVAL, "Signal %s at address %u runs past register 65535.",
                                       signal_id_to_string(s->id), s->address);

        *ret = (PlanItem) {
                .board = s->board,
                .write = write,
                .kind = s->kind,
                .address = s->address,
                .count = count,
                .signal = (int) i,
        };
        return 0;
}

static int plan_collect(const Config *c, PlanItem **ret_items, size_t *ret_n) {
        _cleanup_free_ PlanItem *items = NULL;
        size_t n = 0;
        int r;

        items = calloc(c->n_signals + c->n_boards + 1, sizeof(PlanItem));
        if (!items)
                return -ENOMEM;

        for (size_t i = 0; i < c->n_signals; i++) {
                r = plan_item_from_signal(c, i, &items[n]);
                if (r < 0)
                        return r;
                n++;
        }

        /* The heartbeat is an output register of its own that rides along with the holding block it
         * touches; the comm-timeout register is written once at connect, so it is not in the plan. */
        for (size_t b = 0; b < c->n_boards; b++) {
                int hb = c->boards[b].heartbeat_register;

                if (hb < 0)
                        continue;
                if (hb > 0xffff)
                        return log_error_errno(-EINVAL, "Board %s: heartbeat register %d out of range.",
                                               c->boards[b].name, hb);
                items[n++] = (PlanItem) {
                        .board = (unsigned) b,
                        .write = true,
                        .kind = REGISTER_HOLDING,
                        .address = (unsigned) hb,
                        .count = 1,
                        .signal = -1,
                };
        }

        qsort(items, n, sizeof(PlanItem), plan_item_compare);
        *ret_items = TAKE_PTR(items);
        *ret_n = n;
        return 0;
}

/* Can item join block? Reads may read through up to read_gap unmapped registers; writes never touch a
 * register that is not in the map, so they merge only when contiguous. */
static int plan_can_merge(const Config *c, const HwBlock *block, const PlanItem *item) {
        unsigned end = block->address + block->count;
        unsigned new_end;

        if (item->board != block->board || item->write != block->write || item->kind != block->kind)
                return 0;

        if (item->write) {
                if (item->address < end)
                        return log_error_errno(-EINVAL, "Board %s: two outputs share %s register %u.",
                                               c->boards[item->board].name,
                                               register_kind_to_string(item->kind), item->address);
                if (item->address != end)
                        return 0;
        } else if (item->address > end && item->address - end > c->boards[item->board].read_gap)
                return 0;

        new_end = MAX(end, item->address + item->count);
        return new_end - block->address <= plan_limit(item->kind, item->write);
}

static void plan_init_arrays(HwPlan *p, size_t n_signals) {
        for (size_t i = 0; i < n_signals; i++) {
                p->signal_block[i] = UINT_MAX;
                p->signal_offset[i] = 0;
        }
}

int hw_plan_build(const Config *c, HwPlan *ret) {
        _cleanup_free_ PlanItem *items = NULL;
        HwPlan p = {};
        size_t n_items = 0;
        int r;

        r = plan_collect(c, &items, &n_items);
        if (r < 0)
                return r;

        p.blocks = calloc(n_items + 1, sizeof(HwBlock));
        p.signal_block = calloc(c->n_signals + 1, sizeof(unsigned));
        p.signal_offset = calloc(c->n_signals + 1, sizeof(unsigned));
        if (!p.blocks || !p.signal_block || !p.signal_offset) {
                hw_plan_done(&p);
                return -ENOMEM;
        }
        plan_init_arrays(&p, c->n_signals);

        for (size_t i = 0; i < n_items; i++) {
                const PlanItem *item = &items[i];
                HwBlock *block = p.n_blocks > 0 ? &p.blocks[p.n_blocks - 1] : NULL;

                r = block ? plan_can_merge(c, block, item) : 0;
                if (r < 0) {
                        hw_plan_done(&p);
                        return r;
                }
                if (r > 0)
                        block->count = MAX(block->address + block->count, item->address + item->count) -
                                       block->address;
                else {
                        block = &p.blocks[p.n_blocks++];
                        *block = (HwBlock) {
                                .board = item->board,
                                .slave_id = c->boards[item->board].slave_id,
                                .kind = item->kind,
                                .address = item->address,
                                .count = item->count,
                                .write = item->write,
                        };
                }

                if (item->signal >= 0) {
                        p.signal_block[item->signal] = (unsigned) (block - p.blocks);
                        p.signal_offset[item->signal] = item->address - block->address;
                }
        }

        *ret = p;
        return 0;
}

void hw_plan_done(HwPlan *p) {
        if (!p)
                return;
        free(p->blocks);
        free(p->signal_block);
        free(p->signal_offset);
        *p = (HwPlan) {};
}
