/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of config/: the shipped example, drop-in precedence, the dump, every validation rule (exact
 * message with file:line) and the register codec. Fixture trees are built from strings in a mkdtemp(). */
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* A small valid chair; the cases below break it with a drop-in (whose line numbers they name). */
#define SEC_CHAIR "[Chair]\nControlRateHz=100\n"
#define SEC_MODBUS "[Modbus]\nTransport=tcp\nHost=127.0.0.1\n"
#define SEC_BOARD "[Board roller]\nSlaveId=1\nHeartbeatRegister=10\n"
#define SEC_POSITION "[Signal roller.position]\nBoard=roller\nKind=input\nAddress=0\n"
#define SEC_FORCE "[Signal roller.force]\nBoard=roller\nKind=input\nAddress=2\n"
#define SEC_TARGET "[Signal roller.target]\nBoard=roller\nKind=holding\nAddress=0\n"
#define SEC_ENABLE "[Signal roller.enable]\nBoard=roller\nKind=coil\nAddress=0\n"
#define SEC_NECK "[Zone neck]\nNeck=yes\nFrom=-100\nTo=10\nMaxForceN=30\n"
#define SEC_LIMITS "[Limits]\nMaxForceN=100\n"
#define SIGNALS SEC_POSITION SEC_FORCE SEC_TARGET SEC_ENABLE
#define BASE SEC_CHAIR SEC_MODBUS SEC_BOARD SIGNALS SEC_NECK SEC_LIMITS

#define MAIN "/etc/chaird/chaird.conf"
#define DROPIN "/etc/chaird/chaird.conf.d/50-test.conf"

static void write_file(const char *root, const char *rel, const char *text) {
        char path[PATH_MAX], dir[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s%s", root, rel);
        /* mkdir -p of the parents */
        for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
                snprintf(dir, sizeof(dir), "%.*s", (int)(p - path), path);
                assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        }
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

/* Trees still here when a test failed half-way (cmocka jumps out); the group teardown removes them. */
static char *live_trees[4];

static char *tree_new(void) {
        char *root = strdup("/tmp/test-config-XXXXXX");
        assert_non_null(root);
        assert_non_null(mkdtemp(root));
        for (size_t i = 0; i < ELEMENTSOF(live_trees); i++)
                if (!live_trees[i]) {
                        live_trees[i] = root;
                        break;
                }
        return root;
}

static void tree_free(char *root) {
        for (size_t i = 0; i < ELEMENTSOF(live_trees); i++)
                if (live_trees[i] == root)
                        live_trees[i] = NULL;
        assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        free(root);
}

static int trees_cleanup(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(live_trees); i++)
                if (live_trees[i]) {
                        (void)nftw(live_trees[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
                        free(live_trees[i]);
                        live_trees[i] = NULL;
                }
        return 0;
}

/* ---- the shipped example ---- */

/* The example lives in the source tree; find it from the binary (BUILD/tests/test-config) or $CHAIRD_SRCDIR,
 * so the test runs from any working directory. */
static void example_path(char *buf, size_t size) {
        char exe[PATH_MAX];
        ssize_t n;

        if (getenv("CHAIRD_SRCDIR")) {
                snprintf(buf, size, "%s/config/examples/chaird.conf", getenv("CHAIRD_SRCDIR"));
                if (access(buf, R_OK) == 0)
                        return;
        }
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        assert_true(n > 0);
        exe[n] = '\0';
        for (char *dir = dirname(exe); strcmp(dir, "/") != 0; dir = dirname(dir)) {
                snprintf(buf, size, "%s/config/examples/chaird.conf", dir);
                if (access(buf, R_OK) == 0)
                        return;
        }
        fail_msg("config/examples/chaird.conf not found above the test binary; set CHAIRD_SRCDIR");
}

static char *read_all(const char *path) {
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t size = 0;

        assert_non_null(f);
        assert_true(getdelim(&text, &size, '\0', f) > 0);
        fclose(f);
        return text;
}

static void test_example(void **state) {
        char path[PATH_MAX], *root = tree_new(), *err = NULL, *text;
        _cleanup_(config_freep) Config *c = NULL;
        const SignalConfig *s;
        const ZoneConfig *z;

        example_path(path, sizeof(path));
        text = read_all(path);
        write_file(root, MAIN, text);
        free(text);

        assert_int_equal(config_load(root, &c, &err), 0);
        assert_null(err);
        assert_int_equal(c->control_rate_hz, 100);
        assert_int_equal(c->modbus.transport, TRANSPORT_TCP);
        assert_string_equal(c->modbus.host, "127.0.0.1");
        assert_int_equal(c->modbus.port, 1502);

        assert_int_equal(c->n_boards, 3);
        assert_string_equal(c->boards[0].name, "roller");
        assert_string_equal(c->boards[1].name, "airbag");
        assert_string_equal(c->boards[2].name, "base");
        assert_int_equal(c->boards[1].slave_id, 2);
        assert_int_equal(c->boards[1].poll_interval_ms, 50);
        assert_int_equal(config_board_index(c, "base"), 2);
        assert_int_equal(config_board_index(c, "nosuch"), -ENOENT);

        /* every logical signal is mapped, in SignalId order */
        assert_int_equal(c->n_signals, _SIGNAL_MAX);
        for (size_t i = 0; i < c->n_signals; i++)
                assert_int_equal(c->signals[i].id, (SignalId)i);
        s = config_signal(c, SIGNAL_ROLLER_FORCE);
        assert_non_null(s);
        assert_string_equal(c->boards[s->board].name, "roller");
        assert_int_equal(s->kind, REGISTER_INPUT);
        assert_int_equal(s->address, 2);
        assert_true(fabs(s->scale - 0.1) < 1e-12);
        assert_true(s->has_range);
        assert_true(s->max == 400);
        s = config_signal(c, SIGNAL_HEAT_ENABLE);
        assert_int_equal(s->kind, REGISTER_COIL);
        assert_int_equal(s->type, VALUE_BOOL);
        s = config_signal(c, SIGNAL_ROLLER_STATUS);
        assert_false(s->has_range);

        assert_int_equal(c->gpio.backend, GPIO_BACKEND_SIM);
        assert_string_equal(c->gpio.lines[LINE_ESTOP].name, "ESTOP");
        assert_int_equal(c->gpio.lines[LINE_ESTOP].bias, LINE_BIAS_PULL_UP);
        assert_int_equal(c->gpio.lines[LINE_ESTOP].debounce_ms, 20);
        assert_int_equal(c->gpio.lines[LINE_ESTOP].offset, -1);
        assert_true(c->gpio.lines[LINE_HEARTBEAT].configured);

        assert_int_equal(c->n_zones, 5);
        z = config_neck_zone(c);
        assert_non_null(z);
        assert_string_equal(z->name, "neck");
        assert_true(z->from_mm == -110 && z->to_mm == 10 && z->max_force_n == 35 && z->hard_force_n == 60);
        assert_int_equal(z->allowed_techniques,
                         1u << TECHNIQUE_KNEAD | 1u << TECHNIQUE_ROLLING | 1u << TECHNIQUE_GLIDE);
        assert_int_equal(z->untrained_techniques, 1u << TECHNIQUE_ROLLING | 1u << TECHNIQUE_GLIDE);
        assert_false(config_zone(c, "lumbar")->neck);
        assert_null(config_zone(c, "nosuch"));

        assert_int_equal(c->limits.max_session_s, 30 * 60);
        assert_int_equal(c->limits.heat_max_on_s, 20 * 60);
        assert_true(c->limits.max_force_n == 120 && c->limits.hard_force_n == 180);
        assert_true(c->untrained.enabled);
        assert_int_equal(c->untrained.max_intensity, 4);

        tree_free(root);
}

/* ---- defaults ---- */

static void test_defaults(void **state) {
        char *root = tree_new(), *err = NULL, expect[PATH_MAX];
        _cleanup_(config_freep) Config *c = NULL;
        const BoardConfig *b;
        const SignalConfig *s;

        write_file(root, MAIN, BASE);
        assert_int_equal(config_load(root, &c, &err), 0);
        b = &c->boards[0];
        assert_int_equal(b->response_timeout_ms, 20);
        assert_int_equal(b->poll_interval_ms, 0);
        assert_true(b->required);
        assert_int_equal(b->max_missed_polls, 3);
        assert_int_equal(b->comm_loss_ms, 100);
        assert_int_equal(b->comm_timeout_register, -1);
        assert_int_equal(b->read_gap, 0);
        s = config_signal(c, SIGNAL_ROLLER_ENABLE);
        assert_int_equal(s->type, VALUE_BOOL); /* coil without Type= */
        s = config_signal(c, SIGNAL_ROLLER_FORCE);
        assert_int_equal(s->type, VALUE_U16);
        assert_true(s->scale == 1 && s->offset == 0);
        assert_false(s->has_range);
        assert_int_equal(c->max_intensity, 10);
        assert_int_equal(c->modbus.port, 502);
        assert_int_equal(c->modbus.parity, PARITY_NONE);
        assert_int_equal(c->modbus.data_bits, 8);
        assert_int_equal(c->modbus.stop_bits, 1);
        assert_int_equal(c->modbus.reconnect_min_ms, 100);
        assert_int_equal(c->modbus.reconnect_max_ms, 5000);
        assert_int_equal(c->gpio.backend, GPIO_BACKEND_NONE);
        assert_int_equal(c->gpio.heartbeat_period_ms, 0);
        assert_false(c->untrained.enabled);
        snprintf(expect, sizeof(expect), "%s/var/lib/chaird", root);
        assert_string_equal(c->state_dir, expect);
        /* zone defaults: non-given UntrainedMaxForceN = min(MaxForceN / 2, [Untrained] MaxForceN) */
        assert_true(config_neck_zone(c)->untrained_max_force_n == 15);
        tree_free(root);
}

static void test_builtin_neck(void **state) {
        char *root = tree_new(), *err = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        const ZoneConfig *z;

        write_file(root, MAIN, SEC_CHAIR SEC_MODBUS SEC_BOARD SIGNALS);
        assert_int_equal(config_load(root, &c, &err), 0);
        z = config_neck_zone(c);
        assert_non_null(z);
        assert_int_equal(c->n_zones, 1);
        assert_true(z->max_force_n <= c->limits.max_force_n && z->max_force_n < 150);
        assert_true(z->from_mm < z->to_mm);
        tree_free(root);
}

/* ---- drop-ins ---- */

static void test_dropin_precedence(void **state) {
        char *root = tree_new(), *err = NULL, path[PATH_MAX];
        _cleanup_(config_freep) Config *c = NULL;

        write_file(root, MAIN, BASE);
        /* same name in all three: only /etc's is read (the others would not even parse) */
        write_file(root, "/etc/chaird/chaird.conf.d/10-a.conf", "[Chair]\nMaxIntensity=5\n");
        write_file(root, "/run/chaird/chaird.conf.d/10-a.conf", "[Chair\nbroken\n");
        write_file(root, "/usr/lib/chaird/chaird.conf.d/10-a.conf", "[Chair\nbroken\n");
        /* /run over /usr/lib */
        write_file(root, "/run/chaird/chaird.conf.d/15-b.conf", "[Board roller]\nCommLossMs=250\n");
        write_file(root, "/usr/lib/chaird/chaird.conf.d/15-b.conf", "[Board roller]\nCommLossMs=999\n");
        /* name order across folders: 05 (etc), 20 (usr/lib), 30 (run); last writer wins */
        write_file(root, "/etc/chaird/chaird.conf.d/05-z.conf", "[Chair]\nControlRateHz=40\n");
        write_file(root, "/usr/lib/chaird/chaird.conf.d/20-b.conf", "[Chair]\nControlRateHz=50\n");
        write_file(root, "/run/chaird/chaird.conf.d/30-c.conf", "# later\n[Chair]\nControlRateHz=60\n");
        /* not *.conf: ignored */
        write_file(root, "/etc/chaird/chaird.conf.d/README", "not ini\n");
        write_file(root, "/etc/chaird/chaird.conf.d/99-x.conf.disabled", "[Nope]\n");
        /* a link to /dev/null masks the lower file of that name */
        write_file(root, "/usr/lib/chaird/chaird.conf.d/40-mask.conf", "[Nope]\nX=1\n");
        snprintf(path, sizeof(path), "%s/etc/chaird/chaird.conf.d/40-mask.conf", root);
        assert_int_equal(symlink("/dev/null", path), 0);

        assert_int_equal(config_load(root, &c, &err), 0);
        assert_null(err);
        assert_int_equal(c->max_intensity, 5);
        assert_int_equal(c->boards[0].comm_loss_ms, 250);
        assert_int_equal(c->control_rate_hz, 60);

        assert_int_equal(c->n_files, 7);
        const char *order[] = {
                MAIN,
                "/etc/chaird/chaird.conf.d/05-z.conf",
                "/etc/chaird/chaird.conf.d/10-a.conf",
                "/run/chaird/chaird.conf.d/15-b.conf",
                "/usr/lib/chaird/chaird.conf.d/20-b.conf",
                "/run/chaird/chaird.conf.d/30-c.conf",
                "/etc/chaird/chaird.conf.d/40-mask.conf",
        };
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                snprintf(path, sizeof(path), "%s%s", root, order[i]);
                assert_string_equal(c->files[i], path);
        }

        /* the winner's origin */
        for (size_t i = 0; i < c->n_entries; i++)
                if (strcmp(c->entries[i].section, "Chair") == 0 &&
                    strcmp(c->entries[i].key, "ControlRateHz") == 0) {
                        snprintf(path, sizeof(path), "%s/run/chaird/chaird.conf.d/30-c.conf", root);
                        assert_string_equal(c->entries[i].origin.file, path);
                        assert_int_equal(c->entries[i].origin.line, 3);
                        assert_string_equal(c->entries[i].value, "60");
                }
        tree_free(root);
}

static void test_last_writer_same_file(void **state) {
        char *root = tree_new(), *err = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        size_t n = 0;

        write_file(root, MAIN, BASE "[Board roller]\nMaxMissedPolls=5\nMaxMissedPolls=7\n");
        assert_int_equal(config_load(root, &c, &err), 0);
        assert_int_equal(c->boards[0].max_missed_polls, 7);
        for (size_t i = 0; i < c->n_entries; i++)
                if (strcmp(c->entries[i].key, "MaxMissedPolls") == 0) {
                        n++;
                        assert_int_equal(c->entries[i].origin.line, 34);
                }
        assert_int_equal(n, 1);
        tree_free(root);
}

static void test_empty_resets(void **state) {
        char *root = tree_new(), *err = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        write_file(root, MAIN, BASE);
        write_file(root, DROPIN, "[Board roller]\nHeartbeatRegister=\n");
        assert_int_equal(config_load(root, &c, &err), 0);
        assert_int_equal(c->boards[0].heartbeat_register, -1);
        tree_free(root);
}

static void test_dump(void **state) {
        char *root = tree_new(), *err = NULL, *buf = NULL, line[PATH_MAX * 2];
        _cleanup_(config_freep) Config *c = NULL;
        size_t size = 0;
        FILE *f;

        write_file(root, MAIN, BASE);
        write_file(root, "/run/chaird/chaird.conf.d/30-c.conf", "[Chair]\nControlRateHz=60\n");
        assert_int_equal(config_load(root, &c, &err), 0);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        config_dump(c, f);
        assert_int_equal(fclose(f), 0);

        snprintf(line, sizeof(line), "\nControlRateHz=60  # %s/run/chaird/chaird.conf.d/30-c.conf:2\n",
                 root);
        assert_non_null(strstr(buf, line));
        snprintf(line, sizeof(line), "\nSlaveId=1  # %s" MAIN ":7\n", root);
        assert_non_null(strstr(buf, line));
        assert_non_null(strstr(buf, "\nResponseTimeoutMs=20  # default\n"));
        assert_non_null(strstr(buf, "\n[Signal roller.enable]\nBoard=roller  # "));
        assert_non_null(strstr(buf, "\nType=bool  # default\n"));
        assert_non_null(strstr(buf, "\nMaxSessionMinutes=20  # default\n"));
        /* sections in the documented order */
        const char *order[] = {"[Chair]",
                               "[Modbus]",
                               "[Board roller]",
                               "[Signal roller.position]",
                               "[Signal roller.enable]",
                               "[GPIO]",
                               "[Zone neck]",
                               "[Limits]",
                               "[Untrained]"};
        const char *prev = buf;
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const char *p = strstr(buf, order[i]);
                assert_non_null(p);
                assert_true(p > prev);
                prev = p;
        }
        free(buf);
        tree_free(root);
}

/* ---- validation: one bad fixture per rule, exact message ---- */

typedef struct BadCase {
        const char *name;
        const char *main;   /* NULL: BASE */
        const char *dropin; /* NULL: none; else written to DROPIN */
        const char *error;  /* expected message, "%s" = the root */
} BadCase;

static const BadCase bad_cases[] = {
        {"unknown section", NULL, "[Foo]\nBar=1\n", "%s" DROPIN ":2: [Foo]: unknown section"},
        {"unnamed board", NULL, "[Board]\nSlaveId=4\n",
         "%s" DROPIN ":2: [Board]: section needs a name ([Board NAME])"},
        {"unknown signal", NULL, "[Signal roller.colour]\nBoard=roller\n",
         "%s" DROPIN ":2: [Signal roller.colour]: unknown signal name"},
        {"unknown line", NULL, "[Line reset]\nName=X\n", "%s" DROPIN ":2: [Line reset]: unknown line name"},
        {"unknown key", NULL, "[Board roller]\nFoo=1\n",
         "%s" DROPIN ":2: [Board roller] Foo=1: unknown key"},
        {"outside section", NULL, "Foo=1\n", "%s" DROPIN ":1: Foo=1: assignment outside of a section"},
        {"syntax", NULL, "[Board roller]\nSlaveId=1\n[Board roller\n",
         "%s" DROPIN ":3: syntax error (expected [Section] or Key=Value)"},
        {"indented", NULL, "[Board roller]\nSlaveId=1\n  MaxMissedPolls=4\n",
         "%s" DROPIN ":3: indented line (continuation lines are not supported)"},
        {"bad number", NULL, "[Board roller]\nSlaveId=abc\n",
         "%s" DROPIN ":2: [Board roller] SlaveId=abc: not a number"},
        {"negative", NULL, "[Board roller]\nSlaveId=-1\n",
         "%s" DROPIN ":2: [Board roller] SlaveId=-1: not a number"},
        {"trailing junk", NULL, "[Limits]\nMaxForceN=90N\n",
         "%s" DROPIN ":2: [Limits] MaxForceN=90N: not a number"},
        {"out of range", NULL, "\n[Signal roller.force]\nAddress=70000\n",
         "%s" DROPIN ":3: [Signal roller.force] Address=70000: value out of range (0..65535)"},
        {"rate range", NULL, "[Chair]\nControlRateHz=0\n",
         "%s" DROPIN ":2: [Chair] ControlRateHz=0: value out of range (1..1000)"},
        {"bad bool", NULL, "[Board roller]\nRequired=maybe\n",
         "%s" DROPIN ":2: [Board roller] Required=maybe: not a boolean (yes/no)"},
        {"bad enum", NULL, "[Signal roller.force]\nKind=register\n",
         "%s" DROPIN
         ":2: [Signal roller.force] Kind=register: unknown value (expected coil, discrete, input, holding)"},
        {"bad technique", NULL, "[Zone neck]\nAllowedTechniques=knead punch\n",
         "%s" DROPIN ":2: [Zone neck] AllowedTechniques=knead punch: unknown technique 'punch'"},
        {"relative path", NULL, "[Modbus]\nDevice=ttyUSB0\n",
         "%s" DROPIN ":2: [Modbus] Device=ttyUSB0: not an absolute path"},
        {"unknown board", NULL, "[Signal roller.force]\nBoard=nosuch\n",
         "%s" DROPIN ":2: [Signal roller.force] Board=nosuch: unknown board"},
        {"missing address", NULL, "[Signal roller.speed]\nBoard=roller\nKind=input\n",
         "%s" DROPIN ":2: [Signal roller.speed] Address=: missing (required)"},
        {"missing slave id", NULL, "[Board airbag]\nRequired=no\n",
         "%s" DROPIN ":2: [Board airbag] SlaveId=: missing (required)"},
        {"duplicate slave", NULL, "[Board airbag]\nSlaveId=1\n",
         "%s" DROPIN ":2: [Board airbag] SlaveId=1: duplicate slave id (also [Board roller])"},
        {"comm timeout ms", NULL, "[Board roller]\nCommTimeoutRegister=11\n",
         "%s" DROPIN ":2: [Board roller] CommTimeoutMs=: required with CommTimeoutRegister="},
        {"output kind", NULL, "[Signal roller.target]\nKind=input\n",
         "%s" DROPIN ":2: [Signal roller.target] Kind=input: an output signal must be holding or coil"},
        {"output discrete", NULL, "[Signal roller.enable]\nKind=discrete\n",
         "%s" DROPIN ":2: [Signal roller.enable] Kind=discrete: an output signal must be holding or coil"},
        {"coil not bool", NULL, "[Signal roller.enable]\nType=u16\n",
         "%s" DROPIN ":2: [Signal roller.enable] Type=u16: coil and discrete registers hold Type=bool"},
        {"bool on register", NULL, "[Signal roller.force]\nType=bool\n",
         "%s" DROPIN ":2: [Signal roller.force] Type=bool: Type=bool needs Kind=coil or Kind=discrete"},
        {"32-bit at end", NULL, "[Signal roller.speed]\nBoard=roller\nKind=input\nAddress=65535\nType=s32\n",
         "%s" DROPIN
         ":4: [Signal roller.speed] Address=65535: Type=s32 takes 2 registers, past the last address 65535"},
        {"overlap", NULL, "[Signal roller.speed]\nBoard=roller\nKind=input\nAddress=1\nType=u32\n",
         "%s" MAIN ":16: [Signal roller.force] Address=2: overlaps [Signal roller.speed] (input 1..2 on "
                   "board roller)"},
        {"overlap heartbeat", NULL, "[Signal roller.speed-limit]\nBoard=roller\nKind=holding\nAddress=10\n",
         "%s" DROPIN
         ":4: [Signal roller.speed-limit] Address=10: overlaps [Board roller] HeartbeatRegister=10"},
        {"scale zero", NULL, "[Signal roller.force]\nScale=0\n",
         "%s" DROPIN ":2: [Signal roller.force] Scale=0: must not be zero"},
        {"min above max", NULL, "[Signal roller.force]\nMin=10\nMax=5\n",
         "%s" DROPIN ":2: [Signal roller.force] Min=10: above Max=5"},
        {"required signal",
         SEC_CHAIR SEC_MODBUS SEC_BOARD SEC_POSITION SEC_TARGET SEC_ENABLE SEC_NECK SEC_LIMITS, NULL,
         "%s" MAIN ": [Signal roller.force]: required signal missing"},
        {"tcp host", NULL, "[Modbus]\nHost=\n",
         "%s" DROPIN ":2: [Modbus] Host=: required with Transport=tcp"},
        {"rtu device", NULL, "[Modbus]\nTransport=rtu\n",
         "%s" DROPIN ":2: [Modbus] Device=: required with Transport=rtu"},
        {"baud", NULL, "[Modbus]\nBaud=12345\n",
         "%s" DROPIN
         ":2: [Modbus] Baud=12345: not a standard baud rate (1200, 2400, 4800, 9600, 19200, 38400, "
         "57600, 115200, 230400, 460800, 921600)"},
        {"reconnect", NULL, "[Modbus]\nReconnectMinMs=9000\n",
         "%s" DROPIN ":2: [Modbus] ReconnectMinMs=9000: above ReconnectMaxMs=5000"},
        {"sim socket", NULL, "[GPIO]\nBackend=sim\n",
         "%s" DROPIN ":2: [GPIO] SimSocket=: required with Backend=sim"},
        {"gpiod chip", NULL, "[GPIO]\nBackend=gpiod\n",
         "%s" DROPIN ":2: [GPIO] Chip=: required with Backend=gpiod"},
        {"estop line", NULL, "[GPIO]\nBackend=sim\nSimSocket=/run/s.sock\n[Line power-relay]\nName=P\n",
         "%s" DROPIN ":2: [Line estop]: required with [GPIO] Backend=sim"},
        {"output bias", NULL,
         "[GPIO]\nBackend=sim\nSimSocket=/run/s.sock\n[Line estop]\nName=ESTOP\n[Line power-relay]\nName=P\n"
         "Bias=pull-up\n",
         "%s" DROPIN ":8: [Line power-relay] Bias=pull-up: not allowed on an output line"},
        {"output debounce", NULL, "[Line heartbeat]\nName=HB\nDebounceMs=5\n",
         "%s" DROPIN ":3: [Line heartbeat] DebounceMs=5: not allowed on an output line"},
        {"line name and offset", NULL, "[Line seat]\nName=SEAT\nOffset=4\n",
         "%s" DROPIN ":3: [Line seat] Offset=4: Name= and Offset= exclude each other"},
        {"line neither", NULL, "[Line seat]\nActiveLow=yes\n",
         "%s" DROPIN ":2: [Line seat] Name=: missing (Name= or Offset= is required)"},
        {"heartbeat line", NULL,
         "[GPIO]\nBackend=sim\nSimSocket=/run/s.sock\nHeartbeatPeriodMs=50\n"
         "[Line estop]\nName=E\n[Line power-relay]\nName=P\n",
         "%s" DROPIN ":4: [GPIO] HeartbeatPeriodMs=50: needs a [Line heartbeat]"},
        {"zone from to", NULL, "[Zone neck]\nFrom=10\n",
         "%s" DROPIN ":2: [Zone neck] From=10: not below To=10"},
        {"zone overlap", NULL, "[Zone shoulders]\nFrom=0\nTo=90\n",
         "%s" DROPIN ":2: [Zone shoulders] From=0: overlaps [Zone neck] (-100..10)"},
        {"zone missing from", NULL, "[Zone back]\nTo=90\n",
         "%s" DROPIN ":2: [Zone back] From=: missing (required)"},
        {"no neck", NULL, "[Zone neck]\nNeck=no\n",
         "%s" MAIN ": [Zone] Neck=: no neck zone: one [Zone] needs Neck=yes"},
        {"two necks", NULL, "[Zone chin]\nNeck=yes\nFrom=-200\nTo=-150\nMaxForceN=20\n",
         "%s" DROPIN ":2: [Zone chin] Neck=yes: more than one neck zone (also [Zone neck])"},
        {"neck force explicit",
         SEC_CHAIR SEC_MODBUS SEC_BOARD SIGNALS SEC_LIMITS "[Zone neck]\nFrom=-100\nTo=10\n", NULL,
         "%s" MAIN ":28: [Zone neck] MaxForceN=: required for the neck zone"},
        {"limits force explicit", SEC_CHAIR SEC_MODBUS SEC_BOARD SIGNALS SEC_NECK, NULL,
         "%s" MAIN ": [Limits] MaxForceN=: required when zones are configured"},
        {"zone above cap", NULL, "[Zone back]\nFrom=10\nTo=200\nMaxForceN=150\n",
         "%s" DROPIN ":4: [Zone back] MaxForceN=150: above [Limits] MaxForceN=100"},
        {"zone hard below max", NULL, "[Zone neck]\nHardForceN=25\n",
         "%s" DROPIN ":2: [Zone neck] HardForceN=25: must be above MaxForceN=30"},
        {"zone untrained", NULL, "[Zone neck]\nUntrainedMaxForceN=31\n",
         "%s" DROPIN ":2: [Zone neck] UntrainedMaxForceN=31: above MaxForceN=30"},
        {"neck iso", NULL, "[Limits]\nMaxForceN=200\nHardForceN=250\n[Zone neck]\nMaxForceN=150\n",
         "%s" DROPIN
         ":5: [Zone neck] MaxForceN=150: must stay below 150 N in the neck zone (ISO/TS 15066 pain "
         "onset)"},
        {"hard force", NULL, "[Limits]\nHardForceN=90\n",
         "%s" DROPIN ":2: [Limits] HardForceN=90: must be above MaxForceN=100"},
        {"shoulders", NULL, "[Limits]\nShoulderMinMm=350\n",
         "%s" DROPIN ":2: [Limits] ShoulderMinMm=350: above ShoulderMaxMm=300"},
        {"shoulders track", NULL, "[Limits]\nTrackLengthMm=250\n",
         "%s" DROPIN ":2: [Limits] TrackLengthMm=250: shorter than ShoulderMaxMm=300"},
        {"untrained intensity", NULL, "[Chair]\nMaxIntensity=5\n[Untrained]\nMaxIntensity=6\n",
         "%s" DROPIN ":4: [Untrained] MaxIntensity=6: above [Chair] MaxIntensity=5"},
        {"untrained force", NULL, "[Untrained]\nMaxForceN=101\n",
         "%s" DROPIN ":2: [Untrained] MaxForceN=101: above [Limits] MaxForceN=100"},
};

static void test_bad_configs(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *t = &bad_cases[i];
                char *root = tree_new(), *err = NULL, expect[PATH_MAX * 2];
                Config *c = (Config *)0x1; /* must stay untouched */

                print_message("case: %s\n", t->name);
                write_file(root, MAIN, t->main ?: BASE);
                if (t->dropin)
                        write_file(root, DROPIN, t->dropin);
                snprintf(expect, sizeof(expect), t->error, root);
                /* -ERANGE for a number out of its range, -EINVAL for everything else */
                assert_int_equal(config_load(root, &c, &err),
                                 strstr(t->error, "out of range") ? -ERANGE : -EINVAL);
                assert_ptr_equal(c, (Config *)0x1);
                assert_non_null(err);
                assert_string_equal(err, expect);
                assert_null(strchr(err, '\n'));
                free(err);
                tree_free(root);
        }
}

static void test_missing_main(void **state) {
        char *root = tree_new(), *err = NULL, expect[PATH_MAX];
        Config *c = NULL;

        assert_int_equal(config_load(root, &c, &err), -ENOENT);
        assert_null(c);
        snprintf(expect, sizeof(expect), "%s" MAIN ": cannot read: No such file or directory", root);
        assert_string_equal(err, expect);
        free(err);
        tree_free(root);
}

static void test_long_line(void **state) {
        char *root = tree_new(), *err = NULL, text[600], expect[PATH_MAX];
        Config *c = NULL;

        snprintf(text, sizeof(text), "[Modbus]\nHost=%0400d\n", 1);
        write_file(root, MAIN, BASE);
        write_file(root, DROPIN, text);
        assert_int_equal(config_load(root, &c, &err), -EINVAL);
        snprintf(expect, sizeof(expect), "%s" DROPIN ":2: line too long (at most 197 characters)", root);
        assert_string_equal(err, expect);
        free(err);
        tree_free(root);
}

static void test_load_files(void **state) {
        char *root = tree_new(), *err = NULL, main_path[PATH_MAX], dropin[PATH_MAX];
        _cleanup_(config_freep) Config *c = NULL;
        char *files[] = {main_path, dropin};

        write_file(root, MAIN, BASE);
        write_file(root, "/other.conf", "[Limits]\nMaxForceN=90\n");
        snprintf(main_path, sizeof(main_path), "%s" MAIN, root);
        snprintf(dropin, sizeof(dropin), "%s/other.conf", root);
        assert_int_equal(config_load_files(files, 2, &c, &err), 0);
        assert_true(c->limits.max_force_n == 90);
        assert_int_equal(c->n_files, 2);
        tree_free(root);
}

/* ---- codec ---- */

static SignalConfig sig(ValueType type, double scale, double offset) {
        return (SignalConfig){.type = type, .scale = scale, .offset = offset};
}

static void test_codec_16(void **state) {
        SignalConfig s = sig(VALUE_S16, 0.1, 0);
        uint16_t regs[2] = {};

        regs[0] = 0xFFF6; /* -10 */
        assert_true(fabs(signal_decode(&s, regs) - -1.0) < 1e-9);
        assert_int_equal(signal_encode(&s, -1.0, regs), 0);
        assert_int_equal(regs[0], 0xFFF6);
        assert_int_equal(signal_encode(&s, -3276.8, regs), 0);
        assert_int_equal(regs[0], 0x8000);
        assert_int_equal(signal_encode(&s, -3276.9, regs), -ERANGE);
        assert_int_equal(signal_encode(&s, 3276.8, regs), -ERANGE);

        s = sig(VALUE_U16, 0.1, 0);
        regs[0] = 0xFFF6;
        assert_true(fabs(signal_decode(&s, regs) - 6552.6) < 1e-9);
        /* 70 / 0.1 is 699.99999...: must round, not truncate */
        assert_int_equal(signal_encode(&s, 70.0, regs), 0);
        assert_int_equal(regs[0], 700);
        assert_int_equal(signal_encode(&s, 0.24, regs), 0);
        assert_int_equal(regs[0], 2);
        assert_int_equal(signal_encode(&s, 0.26, regs), 0);
        assert_int_equal(regs[0], 3);
        assert_int_equal(signal_encode(&s, 6553.5, regs), 0);
        assert_int_equal(regs[0], 65535);
        assert_int_equal(signal_encode(&s, 6553.6, regs), -ERANGE);
        assert_int_equal(signal_encode(&s, -0.1, regs), -ERANGE);
        assert_int_equal(signal_encode(&s, -0.04, regs), 0); /* rounds to 0 */
        assert_int_equal(regs[0], 0);
        assert_int_equal(signal_encode(&s, NAN, regs), -ERANGE);

        /* offset: value = raw * 0.5 - 40 */
        s = sig(VALUE_U16, 0.5, -40);
        regs[0] = 100;
        assert_true(signal_decode(&s, regs) == 10);
        assert_int_equal(signal_encode(&s, 10, regs), 0);
        assert_int_equal(regs[0], 100);
        assert_int_equal(signal_encode(&s, -40.5, regs), -ERANGE);
}

static void test_codec_32(void **state) {
        SignalConfig s = sig(VALUE_U32, 1, 0);
        uint16_t regs[2] = {0x0001, 0x0002};

        assert_true(signal_decode(&s, regs) == 65538); /* high word first */
        assert_int_equal(signal_encode(&s, 0x12345678, regs), 0);
        assert_int_equal(regs[0], 0x1234);
        assert_int_equal(regs[1], 0x5678);
        assert_int_equal(signal_encode(&s, 4294967295.0, regs), 0);
        assert_true(regs[0] == 0xFFFF && regs[1] == 0xFFFF);
        assert_true(signal_decode(&s, regs) == 4294967295.0);
        assert_int_equal(signal_encode(&s, 4294967296.0, regs), -ERANGE);
        assert_int_equal(signal_encode(&s, -1, regs), -ERANGE);

        s = sig(VALUE_S32, 0.01, 0);
        assert_int_equal(signal_encode(&s, -0.02, regs), 0);
        assert_true(regs[0] == 0xFFFF && regs[1] == 0xFFFE);
        assert_true(fabs(signal_decode(&s, regs) - -0.02) < 1e-12);
        regs[0] = 0x8000, regs[1] = 0;
        assert_true(fabs(signal_decode(&s, regs) - -21474836.48) < 1e-6);
        assert_int_equal(signal_encode(&s, 21474836.48, regs), -ERANGE);
}

static void test_codec_bool(void **state) {
        SignalConfig s = sig(VALUE_BOOL, 1, 0);
        uint16_t regs[1] = {0xFF00}; /* a coil "on" as some tools write it */

        assert_true(signal_decode(&s, regs) == 1);
        regs[0] = 0;
        assert_true(signal_decode(&s, regs) == 0);
        assert_int_equal(signal_encode(&s, 1, regs), 0);
        assert_int_equal(regs[0], 1);
        assert_int_equal(signal_encode(&s, 2, regs), -ERANGE);
        assert_int_equal(signal_encode(&s, -1, regs), -ERANGE);

        s = sig(VALUE_U16, 0, 0);
        assert_int_equal(signal_encode(&s, 1, regs), -EINVAL);
}

static void test_names(void **state) {
        for (RegisterKind k = 0; k < _REGISTER_KIND_MAX; k++)
                assert_int_equal(register_kind_from_string(register_kind_to_string(k)), k);
        assert_int_equal(register_kind_from_string("holding"), REGISTER_HOLDING);
        assert_int_equal(register_kind_from_string("nosuch"), _REGISTER_KIND_INVALID);
        assert_string_equal(transport_kind_to_string(TRANSPORT_RTU), "rtu");
        assert_null(transport_kind_to_string(_TRANSPORT_MAX));
        assert_string_equal(value_type_to_string(VALUE_S32), "s32");
        assert_int_equal(value_type_registers(VALUE_U16), 1);
        assert_int_equal(value_type_registers(VALUE_BOOL), 1);
        assert_int_equal(value_type_registers(VALUE_S32), 2);
        assert_int_equal(value_type_registers(VALUE_U32), 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_example),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_builtin_neck),
                cmocka_unit_test(test_dropin_precedence),
                cmocka_unit_test(test_last_writer_same_file),
                cmocka_unit_test(test_empty_resets),
                cmocka_unit_test(test_dump),
                cmocka_unit_test(test_bad_configs),
                cmocka_unit_test(test_missing_main),
                cmocka_unit_test(test_long_line),
                cmocka_unit_test(test_load_files),
                cmocka_unit_test(test_codec_16),
                cmocka_unit_test(test_codec_32),
                cmocka_unit_test(test_codec_bool),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, trees_cleanup);
}
