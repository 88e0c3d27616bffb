# SPDX-License-Identifier: LGPL-2.1-or-later
# Included by the top Makefile: install (DESTDIR, PREFIX), the Debian package and the VM tests.
.PHONY: install

install: all
	install -Dm0755 $(BUILD)/chaird $(DESTDIR)$(PREFIX)/sbin/chaird
	install -Dm0755 $(BUILD)/chair-sim $(DESTDIR)$(PREFIX)/bin/chair-sim
	$(if $(CLI_SRCS),install -Dm0755 $(BUILD)/chairctl $(DESTDIR)$(PREFIX)/bin/chairctl)
	install -Dm0644 config/examples/chaird.conf $(DESTDIR)$(PREFIX)/share/doc/chaird/examples/chaird.conf
	install -Dm0644 docs/config.md $(DESTDIR)$(PREFIX)/share/doc/chaird/config.md
