/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of hw_plan_build(): how the signal map becomes batched Modbus requests. Configs are built
 * by hand so this test does not depend on the config parser. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hw.h"

#define MAX_TEST_SIGNALS 2100

typedef struct TestMap {
        Config config;
        BoardConfig boards[4];
        SignalConfig signals[MAX_TEST_SIGNALS];
} TestMap;

static void map_board(TestMap *m, const char *name, unsigned slave, int heartbeat, int comm_timeout) {
        m->boards[m->config.n_boards++] = (BoardConfig) {
                .name = (char *) name,
                .slave_id = slave,
                .response_timeout_ms = 20,
                .max_missed_polls = 3,
                .comm_loss_ms = 100,
                .heartbeat_register = heartbeat,
                .comm_timeout_register = comm_timeout,
                .comm_timeout_ms = 250,
        };
}

static size_t map_signal(TestMap *m, SignalId id, unsigned board, RegisterKind kind, unsigned address,
                         ValueType type) {
        size_t i = m->config.n_signals++;

        assert_true(i < MAX_TEST_SIGNALS);
        m->signals[i] = (SignalConfig) {
                .id = id,
                .board = board,
                .kind = kind,
                .address = address,
                .type = type,
                .scale = 1,
        };
        return i;
}

static TestMap *map_new(void) {
        TestMap *m = calloc(1, sizeof(TestMap));

        assert_non_null(m);
        m->config.boards = m->boards;
        m->config.signals = m->signals;
        return m;
}

/* config/examples/chaird.conf, the chair chair-sim implements. */
static TestMap *map_example(void) {
        TestMap *m = map_new();

        map_board(m, "roller", 1, 6, 7);
        map_board(m, "airbag", 2, 4, 5);
        map_board(m, "base", 3, 2, 3);

        map_signal(m, SIGNAL_ROLLER_POSITION, 0, REGISTER_INPUT, 0, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_SPEED, 0, REGISTER_INPUT, 1, VALUE_S16);
        map_signal(m, SIGNAL_ROLLER_FORCE, 0, REGISTER_INPUT, 2, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_STATUS, 0, REGISTER_INPUT, 3, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_TARGET, 0, REGISTER_HOLDING, 0, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_SPEED_LIMIT, 0, REGISTER_HOLDING, 1, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_FORCE_SETPOINT, 0, REGISTER_HOLDING, 2, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_TECHNIQUE, 0, REGISTER_HOLDING, 3, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_WIDTH, 0, REGISTER_HOLDING, 4, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_ENABLE, 0, REGISTER_HOLDING, 5, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_SHOULDERS_PRESSURE, 1, REGISTER_INPUT, 0, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_ARMS_PRESSURE, 1, REGISTER_INPUT, 1, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_HIPS_PRESSURE, 1, REGISTER_INPUT, 2, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_LEGS_PRESSURE, 1, REGISTER_INPUT, 3, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_STATUS, 1, REGISTER_INPUT, 4, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_SHOULDERS_COMMAND, 1, REGISTER_HOLDING, 0, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_ARMS_COMMAND, 1, REGISTER_HOLDING, 1, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_HIPS_COMMAND, 1, REGISTER_HOLDING, 2, VALUE_U16);
        map_signal(m, SIGNAL_AIRBAG_LEGS_COMMAND, 1, REGISTER_HOLDING, 3, VALUE_U16);
        map_signal(m, SIGNAL_HEAT_TEMPERATURE, 2, REGISTER_INPUT, 0, VALUE_S16);
        map_signal(m, SIGNAL_RECLINE_ANGLE, 2, REGISTER_INPUT, 1, VALUE_U16);
        map_signal(m, SIGNAL_BASE_STATUS, 2, REGISTER_INPUT, 2, VALUE_U16);
        map_signal(m, SIGNAL_HEAT_SETPOINT, 2, REGISTER_HOLDING, 0, VALUE_S16);
        map_signal(m, SIGNAL_RECLINE_TARGET, 2, REGISTER_HOLDING, 1, VALUE_U16);
        map_signal(m, SIGNAL_HEAT_ENABLE, 2, REGISTER_COIL, 0, VALUE_BOOL);
        map_signal(m, SIGNAL_RECLINE_ENABLE, 2, REGISTER_COIL, 1, VALUE_BOOL);
        return m;
}

static void assert_block(const HwBlock *b, unsigned board, bool write, RegisterKind kind, unsigned address,
                         unsigned count) {
        assert_int_equal(b->board, board);
        assert_int_equal(b->write, write);
        assert_int_equal(b->kind, kind);
        assert_int_equal(b->address, address);
        assert_int_equal(b->count, count);
}

/* Every signal sits inside its block, and its block is on its board with its kind. */
static void assert_signals_placed(const TestMap *m, const HwPlan *p) {
        for (size_t i = 0; i < m->config.n_signals; i++) {
                const SignalConfig *s = &m->signals[i];
                const HwBlock *b;
                unsigned width = s->kind == REGISTER_COIL || s->kind == REGISTER_DISCRETE
                                         ? 1
                                         : value_type_registers(s->type);

                assert_true(p->signal_block[i] < p->n_blocks);
                b = &p->blocks[p->signal_block[i]];
                assert_int_equal(b->board, s->board);
                assert_int_equal(b->kind, s->kind);
                assert_int_equal(b->address + p->signal_offset[i], s->address);
                assert_true(p->signal_offset[i] + width <= b->count);
        }
}

static void test_example_map(void **state) {
        TestMap *m = map_example();
        HwPlan p = {};

        assert_int_equal(hw_plan_build(&m->config, &p), 0);
        assert_int_equal(p.n_blocks, 7);

        /* roller: one input read, one holding write 0..6 with the heartbeat at 6 and not the comm
         * timeout at 7, which is written once at connect only. */
        assert_block(&p.blocks[0], 0, false, REGISTER_INPUT, 0, 4);
        assert_block(&p.blocks[1], 0, true, REGISTER_HOLDING, 0, 7);
        assert_block(&p.blocks[2], 1, false, REGISTER_INPUT, 0, 5);
        assert_block(&p.blocks[3], 1, true, REGISTER_HOLDING, 0, 5);
        assert_block(&p.blocks[4], 2, false, REGISTER_INPUT, 0, 3);
        assert_block(&p.blocks[5], 2, true, REGISTER_COIL, 0, 2);
        assert_block(&p.blocks[6], 2, true, REGISTER_HOLDING, 0, 3);
        for (size_t i = 0; i < p.n_blocks; i++)
                assert_int_equal(p.blocks[i].slave_id, p.blocks[i].board + 1);

        assert_signals_placed(m, &p);
        hw_plan_done(&p);
        assert_null(p.blocks);
        free(m);
}

static void test_deterministic_order(void **state) {
        TestMap *a = map_example(), *b = map_example();
        HwPlan pa = {}, pb = {};

        /* Same map, signals listed in reverse: same blocks in the same order. */
        for (size_t i = 0; i < b->config.n_signals; i++)
                b->signals[i] = a->signals[a->config.n_signals - 1 - i];

        assert_int_equal(hw_plan_build(&a->config, &pa), 0);
        assert_int_equal(hw_plan_build(&b->config, &pb), 0);
        assert_int_equal(pa.n_blocks, pb.n_blocks);
        assert_memory_equal(pa.blocks, pb.blocks, pa.n_blocks * sizeof(HwBlock));
        assert_signals_placed(b, &pb);

        hw_plan_done(&pa);
        hw_plan_done(&pb);
        free(a);
        free(b);
}

static unsigned plan_count(TestMap *m, HwPlan *p) {
        assert_int_equal(hw_plan_build(&m->config, p), 0);
        assert_signals_placed(m, p);
        return (unsigned) p->n_blocks;
}

static void test_read_gap(void **state) {
        TestMap *m = map_new();
        HwPlan p = {};

        /* inputs at 0, 1 and 5: three unmapped registers (2, 3, 4) between them */
        map_board(m, "b", 1, -1, -1);
        map_signal(m, SIGNAL_ROLLER_POSITION, 0, REGISTER_INPUT, 0, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_SPEED, 0, REGISTER_INPUT, 5, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_FORCE, 0, REGISTER_INPUT, 1, VALUE_U16);

        assert_int_equal(plan_count(m, &p), 2);
        assert_block(&p.blocks[0], 0, false, REGISTER_INPUT, 0, 2);
        assert_block(&p.blocks[1], 0, false, REGISTER_INPUT, 5, 1);
        hw_plan_done(&p);

        m->boards[0].read_gap = 2;
        assert_int_equal(plan_count(m, &p), 2);
        hw_plan_done(&p);

        m->boards[0].read_gap = 3;
        assert_int_equal(plan_count(m, &p), 1);
        assert_block(&p.blocks[0], 0, false, REGISTER_INPUT, 0, 6);
        assert_int_equal(p.signal_offset[1], 5);
        hw_plan_done(&p);
        free(m);
}

static void test_writes_never_read_gap(void **state) {
        TestMap *m = map_new();
        HwPlan p = {};

        /* A write through the gap would overwrite register 1, which is not ours to write. */
        map_board(m, "b", 1, -1, -1);
        m->boards[0].read_gap = 10;
        map_signal(m, SIGNAL_ROLLER_TARGET, 0, REGISTER_HOLDING, 0, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_ENABLE, 0, REGISTER_HOLDING, 2, VALUE_U16);
        map_signal(m, SIGNAL_HEAT_ENABLE, 0, REGISTER_COIL, 0, VALUE_BOOL);
        map_signal(m, SIGNAL_RECLINE_ENABLE, 0, REGISTER_COIL, 2, VALUE_BOOL);

        assert_int_equal(plan_count(m, &p), 4);
        assert_block(&p.blocks[0], 0, true, REGISTER_COIL, 0, 1);
        assert_block(&p.blocks[1], 0, true, REGISTER_COIL, 2, 1);
        assert_block(&p.blocks[2], 0, true, REGISTER_HOLDING, 0, 1);
        assert_block(&p.blocks[3], 0, true, REGISTER_HOLDING, 2, 1);
        hw_plan_done(&p);

        /* the heartbeat at 1 fills the hole and joins both into one block */
        m->boards[0].heartbeat_register = 1;
        assert_int_equal(plan_count(m, &p), 3);
        assert_block(&p.blocks[2], 0, true, REGISTER_HOLDING, 0, 3);
        hw_plan_done(&p);

        /* a heartbeat away from every output is a block of its own */
        m->boards[0].heartbeat_register = 40;
        assert_int_equal(plan_count(m, &p), 5);
        assert_block(&p.blocks[4], 0, true, REGISTER_HOLDING, 40, 1);
        hw_plan_done(&p);
        free(m);
}

static void test_read_limits(void **state) {
        TestMap *m = map_new();
        HwPlan p = {};

        map_board(m, "b", 1, -1, -1);
        m->boards[0].read_gap = 5000;
        map_signal(m, SIGNAL_ROLLER_POSITION, 0, REGISTER_INPUT, 0, VALUE_U16);
        map_signal(m, SIGNAL_ROLLER_SPEED, 0, REGISTER_INPUT, 124, VALUE_U16);
        assert_int_equal(plan_count(m, &p), 1);
        assert_block(&p.blocks[0], 0, false, REGISTER_INPUT, 0, 125);
        hw_plan_done(&p);

        m->signals[1].address = 125;
        assert_int_equal(plan_count(m, &p), 2);
        hw_plan_done(&p);

        /* a 32-bit value at 124 would end at 126: it starts the next block and is never split */
        m->signals[1].address = 123;
        m->signals[1].type = VALUE_U32;
        assert_int_equal(plan_count(m, &p), 1);
        assert_block(&p.blocks[0], 0, false, REGISTER_INPUT, 0, 125);
        hw_plan_done(&p);
        m->signals[1].address = 124;
        assert_int_equal(plan_count(m, &p), 2);
        assert_block(&p.blocks[1], 0, false, REGISTER_INPUT, 124, 2);
        hw_plan_done(&p);

        /* bits: 2000 per read */
        m->signals[0].kind = m->signals[1].kind = REGISTER_DISCRETE;
        m->signals[0].type = m->signals[1].type = VALUE_BOOL;
        m->signals[1].address = 1999;
        assert_int_equal(plan_count(m, &p), 1);
        assert_block(&p.blocks[0], 0, false, REGISTER_DISCRETE, 0, 2000);
        hw_plan_done(&p);
        m->signals[1].address = 2000;
        assert_int_equal(plan_count(m, &p), 2);
        hw_plan_done(&p);
        free(m);
}

static void test_write_limits(void **state) {
        TestMap *m = map_new();
        HwPlan p = {};

        /* 124 contiguous holding outputs: 123 in one FC16, the last one alone */
        map_board(m, "b", 1, -1, -1);
        for (unsigned a = 0; a < 124; a++)
                map_signal(m, SIGNAL_ROLLER_TARGET, 0, REGISTER_HOLDING, a, VALUE_U16);
        assert_int_equal(plan_count(m, &p), 2);
        assert_block(&p.blocks[0], 0, true, REGISTER_HOLDING, 0, 123);
        assert_block(&p.blocks[1], 0, true, REGISTER_HOLDING, 123, 1);
        hw_plan_done(&p);

        /* 1969 contiguous coils: 1968 in one FC15 */
        m->config.n_signals = 0;
        for (unsigned a = 0; a < 1969; a++)
                map_signal(m, SIGNAL_HEAT_ENABLE, 0, REGISTER_COIL, a, VALUE_BOOL);
        assert_int_equal(plan_count(m, &p), 2);
        assert_block(&p.blocks[0], 0, true, REGISTER_COIL, 0, 1968);
        assert_block(&p.blocks[1], 0, true, REGISTER_COIL, 1968, 1);
        hw_plan_done(&p);
        free(m);
}

static void test_32bit(void **state) {
        TestMap *m = map_new();
        HwPlan p = {};

        map_board(m, "b", 1, 14, -1);
        map_signal(m, SIGNAL_ROLLER_POSITION, 0, REGISTER_INPUT, 10, VALUE_U32);
        map_signal(m, SIGNAL_ROLLER_SPEED, 0, REGISTER_INPUT, 12, VALUE_S16);
        map_signal(m, SIGNAL_ROLLER_TARGET, 0, REGISTER_HOLDING, 10, VALUE_S32);
        map_signal(m, SIGNAL_ROLLER_ENABLE, 0, REGISTER_HOLDING, 12, VALUE_S32);

        assert_int_equal(plan_count(m, &p), 2);
        assert_block(&p.blocks[0], 0, false, REGISTER_INPUT, 10, 3);
        assert_int_equal(p.signal_offset[1], 2);
        /* 10-11, 12-13 and the heartbeat at 14 */
        assert_block(&p.blocks[1], 0, true, REGISTER_HOLDING, 10, 5);
        assert_int_equal(p.signal_offset[3], 2);
        hw_plan_done(&p);

        /* an output at 11 would overlap the high word of the 32-bit value at 10 */
        m->signals[3].address = 11;
        assert_int_equal(hw_plan_build(&m->config, &p), -EINVAL);
        free(m);
}

static void test_refused_maps(void **state) {
        TestMap *m = map_new();
        HwPlan p = {};

        map_board(m, "b", 1, 3, -1);
        map_signal(m, SIGNAL_ROLLER_TARGET, 0, REGISTER_INPUT, 0, VALUE_U16);
        assert_int_equal(hw_plan_build(&m->config, &p), -EINVAL); /* output on a read-only kind */

        m->signals[0].kind = REGISTER_HOLDING;
        m->signals[0].address = 3;
        assert_int_equal(hw_plan_build(&m->config, &p), -EINVAL); /* output on the heartbeat */

        m->signals[0].address = 0;
        m->signals[0].board = 1;
        assert_int_equal(hw_plan_build(&m->config, &p), -EINVAL); /* no such board */

        m->signals[0].board = 0;
        m->signals[0].address = 65535;
        m->signals[0].type = VALUE_U32;
        assert_int_equal(hw_plan_build(&m->config, &p), -EINVAL); /* past the address space */

        /* and a correct map still builds */
        m->signals[0].address = 0;
        assert_int_equal(hw_plan_build(&m->config, &p), 0);
        assert_int_equal(p.n_blocks, 2);
        hw_plan_done(&p);
        free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_example_map),
                cmocka_unit_test(test_deterministic_order),
                cmocka_unit_test(test_read_gap),
                cmocka_unit_test(test_writes_never_read_gap),
                cmocka_unit_test(test_read_limits),
                cmocka_unit_test(test_write_limits),
                cmocka_unit_test(test_32bit),
                cmocka_unit_test(test_refused_maps),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
