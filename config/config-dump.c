/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints the effective config (chaird --check-config, chairctl config check): every key with its value
 * and where that value came from, so an OEM sees which drop-in won. */
#include <stdio.h>

#include "config-internal.h"

static void dump_section(const Config *c, FILE *f, SectionKind kind, const char *name) {
        const void *base = config_section_base((Config *)c, kind, name);
        char sec[256], value[512];

        if (!base)
                return;
        snprintf(sec, sizeof(sec), "%s%s%s", section_kind_to_string(kind), name ? " " : "", name ?: "");
        fprintf(f, "\n[%s]\n", sec);
        for (size_t i = 0; i < config_keys_count; i++) {
                const ConfigKey *k = &config_keys[i];
                const ConfigEntry *e;

                if (k->section != kind || !config_key_format(c, k, base, value, sizeof(value)))
                        continue;
                e = config_entry_given(c, sec, k->key);
                if (e)
                        fprintf(f, "%s=%s  # %s:%u\n", k->key, value, e->origin.file, e->origin.line);
                else
                        fprintf(f, "%s=%s  # default\n", k->key, value);
        }
}

void config_dump(const Config *c, FILE *f) {
        fprintf(f, "# chaird effective configuration (root %s)\n", c->root);
        for (size_t i = 0; i < c->n_files; i++)
                fprintf(f, "# read: %s\n", c->files[i]);

        dump_section(c, f, SECTION_CHAIR, NULL);
        dump_section(c, f, SECTION_MODBUS, NULL);
        for (size_t i = 0; i < c->n_boards; i++)
                dump_section(c, f, SECTION_BOARD, c->boards[i].name);
        for (size_t i = 0; i < c->n_signals; i++)
                dump_section(c, f, SECTION_SIGNAL, signal_id_to_string(c->signals[i].id));
        dump_section(c, f, SECTION_GPIO, NULL);
        for (LineId id = 0; id < _LINE_MAX; id++)
                dump_section(c, f, SECTION_LINE, line_id_to_string(id));
        for (size_t i = 0; i < c->n_zones; i++)
                dump_section(c, f, SECTION_ZONE, c->zones[i].name);
        dump_section(c, f, SECTION_LIMITS, NULL);
        dump_section(c, f, SECTION_UNTRAINED, NULL);
}
