/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `make bench` only: D-Bus round trips from N concurrent clients, each a process with its own connection
 * to the bus in DBUS_SYSTEM_BUS_ADDRESS, calling one thing back to back for a fixed time. Prints one JSON
 * object: calls per second over all clients and the per-call latency percentiles.
 *
 *   dbus-load CALL CLIENTS SECONDS
 *   CALL: get-state    Properties.Get("org.chaird.Chair1", "State") on chaird
 *         ping-chaird  Peer.Ping on chaird (answered inside chaird's loop by sd-bus)
 *         ping-bus     Peer.Ping on the bus daemon itself */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_SAMPLES (4u * 1024u * 1024u)

typedef struct Call {
        const char *name;
        const char *dest, *path, *iface, *member;
        bool get; /* Properties.Get with ("org.chaird.Chair1", "State") */
} Call;

#define CHAIR "org.chaird.Chair1", "/org/chaird/Chair1"
#define BUS "org.freedesktop.DBus", "/org/freedesktop/DBus"

static const Call calls[] = {
        { "get-state", CHAIR, "org.freedesktop.DBus.Properties", "Get", true },
        { "ping-chaird", CHAIR, "org.freedesktop.DBus.Peer", "Ping", false },
        { "ping-bus", BUS, "org.freedesktop.DBus.Peer", "Ping", false },
};

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int call_once(sd_bus *bus, const Call *c) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        int r;

        if (c->get)
                r = sd_bus_call_method(bus, c->dest, c->path, c->iface, c->member, &error, &reply, "ss",
                                       "org.chaird.Chair1", "State");
        else
                r = sd_bus_call_method(bus, c->dest, c->path, c->iface, c->member, &error, &reply, "");
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        return r;
}

/* One client: connect, one warm-up call, report ready, wait for the common start, then call until the
 * deadline. Latencies (ns, uint32) go to out_fd, preceded by the error count. */
static int client_run(const Call *c, double seconds, int ready_fd, int go_fd, int out_fd) {
        sd_bus *bus = NULL;
        uint32_t *lat, errors = 0;
        uint64_t n = 0, end;
        char go;
        int r;

        lat = malloc(MAX_SAMPLES * sizeof(uint32_t));
        if (!lat)
                return 1;
        r = sd_bus_open_system(&bus);
        if (r < 0 || call_once(bus, c) < 0) {
                fprintf(stderr, "dbus-load: %s: cannot reach the bus or the peer: %s\n", c->name,
                        strerror(r < 0 ? -r : EIO));
                return 1;
        }
        if (write(ready_fd, "r", 1) != 1 || read(go_fd, &go, 1) < 0)
                return 1;
        end = now_ns() + (uint64_t) (seconds * 1e9);
        for (uint64_t t = now_ns(); t < end && n < MAX_SAMPLES;) {
                uint64_t t1;

                r = call_once(bus, c);
                t1 = now_ns();
                if (r < 0)
                        errors++;
                else
                        lat[n++] = (uint32_t) (t1 - t > UINT32_MAX ? UINT32_MAX : t1 - t);
                t = t1;
        }
        if (write(out_fd, &errors, sizeof errors) != sizeof errors ||
            write(out_fd, lat, n * sizeof(uint32_t)) != (ssize_t) (n * sizeof(uint32_t)))
                return 1;
        sd_bus_flush_close_unref(bus);
        return 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p) {
        size_t i;

        if (n == 0)
                return 0;
        i = (size_t) (p / 100.0 * (double) (n - 1) + 0.5);
        return v[i] / 1000.0;
}

/* Reads every client's file, sorts all latencies and prints the JSON line. */
static int report(const Call *c, int clients, double seconds, char paths[][64]) {
        uint32_t *all = NULL, errors = 0, e;
        size_t n = 0;

        for (int i = 0; i < clients; i++) {
                FILE *f = fopen(paths[i], "rb");
                long size;

                if (!f || fread(&e, sizeof e, 1, f) != 1)
                        return fprintf(stderr, "dbus-load: client %d left no result\n", i), 1;
                errors += e;
                fseek(f, 0, SEEK_END);
                size = ftell(f) - (long) sizeof e;
                fseek(f, sizeof e, SEEK_SET);
                all = realloc(all, (n + (size_t) size / sizeof(uint32_t)) * sizeof(uint32_t) + 1);
                if (!all)
                        return 1;
                n += fread(all + n, sizeof(uint32_t), (size_t) size / sizeof(uint32_t), f);
                fclose(f);
                unlink(paths[i]);
        }
        qsort(all, n, sizeof(uint32_t), cmp_u32);
        printf("{\"call\": \"%s\", \"clients\": %d, \"seconds\": %.3f, \"calls\": %zu, \"errors\": %u, "
               "\"rate_per_s\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f}\n",
               c->name, clients, seconds, n, errors, n / seconds, pct(all, n, 50), pct(all, n, 99),
               pct(all, n, 100));
        free(all);
        return errors > 0 || n == 0;
}

int main(int argc, char **argv) {
        char paths[MAX_CLIENTS][64];
        int ready[2], go[2], clients, failed = 0;
        const Call *c = NULL;
        double seconds;
        char buf;

        if (argc != 4)
                return fprintf(stderr, "usage: dbus-load CALL CLIENTS SECONDS\n"), 2;
        for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
                if (strcmp(argv[1], calls[i].name) == 0)
                        c = &calls[i];
        clients = atoi(argv[2]);
        seconds = atof(argv[3]);
        if (!c || clients < 1 || clients > MAX_CLIENTS || seconds <= 0)
                return fprintf(stderr, "dbus-load: bad arguments\n"), 2;
        if (pipe(ready) < 0 || pipe(go) < 0)
                return 1;

        for (int i = 0; i < clients; i++) {
                snprintf(paths[i], sizeof paths[i], "/tmp/dbus-load.%d.%d", (int) getpid(), i);
                if (fork() == 0) {
                        FILE *f = fopen(paths[i], "wb");
                        close(go[1]);
                        _exit(f ? client_run(c, seconds, ready[1], go[0], fileno(f)) : 1);
                }
        }
        close(go[0]);
        close(ready[1]); /* a client that dies before it is ready then ends the wait below */
        /* every client connected and warmed up before any starts: the clients overlap for the whole run */
        for (int i = 0; i < clients; i++)
                if (read(ready[0], &buf, 1) != 1)
                        break;
        close(go[1]);
        for (int i = 0; i < clients; i++) {
                int status;
                if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }
        if (failed)
                return fprintf(stderr, "dbus-load: %d clients failed\n", failed), 1;
        return report(c, clients, seconds, paths);
}
