/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to config/: the key table, the parse state and the helpers the parser, validator and dump
 * share. Nothing outside config/ includes this file. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "config.h"

/* Name <-> enum helpers not in the public header (the parser and the dump need both directions). */
TransportKind transport_kind_from_string(const char *s);
const char *parity_to_string(Parity p);
Parity parity_from_string(const char *s);
ValueType value_type_from_string(const char *s);
const char *gpio_backend_to_string(GpioBackend b);
GpioBackend gpio_backend_from_string(const char *s);
const char *line_bias_to_string(LineBias b);
LineBias line_bias_from_string(const char *s);

typedef enum SectionKind {
        SECTION_CHAIR,
        SECTION_MODBUS,
        SECTION_BOARD,
        SECTION_SIGNAL,
        SECTION_GPIO,
        SECTION_LINE,
        SECTION_ZONE,
        SECTION_LIMITS,
        SECTION_UNTRAINED,
        _SECTION_KIND_MAX,
        _SECTION_KIND_INVALID = -EINVAL,
} SectionKind;

typedef enum KeyType {
        KEY_UINT,       /* unsigned */
        KEY_PORT,       /* uint16_t */
        KEY_INT_OPT,    /* int, -1 = not set */
        KEY_DOUBLE,     /* double; NAN/inf = not set */
        KEY_BOOL,       /* bool */
        KEY_STRING,     /* char *, NULL = not set */
        KEY_PATH,       /* char *, an absolute path */
        KEY_ENUM,       /* int-sized enum, names from the EnumNames functions */
        KEY_MINUTES,    /* unsigned seconds, written in minutes */
        KEY_TECHNIQUES, /* unsigned bit mask (1 << Technique), written as names */
        KEY_BOARD,      /* SignalConfig.board, written as a board name */
} KeyType;

typedef struct EnumNames {
        const char *(*to_string)(int v);
        int (*from_string)(const char *s);
        const char *list; /* for error messages: "tcp, rtu" */
} EnumNames;

/* One row of the key table: every key the parser accepts, where it goes and what it may hold. */
typedef struct ConfigKey {
        SectionKind section;
        const char *key;
        KeyType type;
        size_t offset;         /* into the section's struct (Config for [Chair], etc.) */
        double min, max;       /* numeric range, in the unit the OEM writes */
        const char *def;       /* default, in config syntax; NULL = none (or computed, see below) */
        bool computed_default; /* default depends on other keys: filled in by validation */
        const EnumNames *names;
} ConfigKey;

extern const ConfigKey config_keys[];
extern const size_t config_keys_count;

const char *section_kind_to_string(SectionKind k);
SectionKind section_kind_from_string(const char *s);
bool section_kind_is_named(SectionKind k);

/* The struct a key of this section writes into; NULL when the named object does not exist. */
void *config_section_base(Config *c, SectionKind kind, const char *name);

/* Sets one typed field from a config string; an empty string resets it to its default. On failure returns
 * -EINVAL and writes why into why[]. KEY_BOARD is the caller's (board names resolve after all files). */
int config_key_parse(const ConfigKey *k, void *base, const char *value, char *why, size_t why_size);
/* The row for section kind + key, or NULL. */
const ConfigKey *config_key_find(SectionKind section, const char *key);
/* Applies the key's default, if it has one, to base. */
void config_key_set_default(const ConfigKey *k, void *base);
/* Writes the typed value back in config syntax; returns false when the field holds no value. */
bool config_key_format(const Config *c, const ConfigKey *k, const void *base, char *buf, size_t size);

/* Merged entries: lookup by section and key. config_entry_given() ignores empty assignments. */
const ConfigEntry *config_entry_find(const Config *c, const char *section, const char *key);
const ConfigEntry *config_entry_given(const Config *c, const char *section, const char *key);

/* "file:line: [Section] Key=Value: why" into *ret_error (the first error only); returns r. origin may be
 * NULL (then the main file is named), key may be NULL (section-level error). */
int config_error(const Config *c, char **ret_error, int r, const ConfigOrigin *origin, const char *section,
                 const char *key, const char *value, const char *fmt, ...) _printf_(8, 9);

/* Validates the merged config, fills computed defaults, resolves board names (board_names[i] belongs to
 * Config.signals[i]). */
int config_validate(Config *c, char **board_names, char **ret_error);

/* root + "/" + rel, with exactly one slash between them (malloc'd, NULL on OOM). */
char *config_path_join(const char *root, const char *rel);
