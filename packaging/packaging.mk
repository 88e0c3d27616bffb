# SPDX-License-Identifier: LGPL-2.1-or-later
# Included by the top Makefile: install (DESTDIR, PREFIX), the Debian package, the packaging checks and the
# VM tests. Folders that systemd, udev and dbus read come from their pkg-config files, so units land
# where the system looks whatever PREFIX is; the defaults are used only when a .pc file is missing.

pc_var = $(or $(shell $(PKG_CONFIG) --variable=$(2) $(1) 2>/dev/null),$(3))

SYSTEMD_UNITDIR ?= $(call pc_var,systemd,systemdsystemunitdir,/lib/systemd/system)
SYSTEMD_GENERATORDIR ?= $(call pc_var,systemd,systemdsystemgeneratordir,/lib/systemd/system-generators)
SYSUSERSDIR ?= $(call pc_var,systemd,sysusersdir,/usr/lib/sysusers.d)
TMPFILESDIR ?= $(call pc_var,systemd,tmpfilesdir,/usr/lib/tmpfiles.d)
UDEVDIR ?= $(call pc_var,udev,udevdir,/lib/udev)
DBUS_DATADIR ?= $(call pc_var,dbus-1,datadir,/usr/share)
DBUS_POLICYDIR ?= $(DBUS_DATADIR)/dbus-1/system.d
DBUS_INTERFACESDIR ?= $(call pc_var,dbus-1,interfaces_dir,/usr/share/dbus-1/interfaces)
BASH_COMPLETIONDIR ?= $(call pc_var,bash-completion,completionsdir,/usr/share/bash-completion/completions)

SBINDIR = $(PREFIX)/sbin
BINDIR = $(PREFIX)/bin
LIBEXECDIR = $(PREFIX)/libexec/chaird
DATADIR = $(PREFIX)/share
DOCDIR = $(DATADIR)/doc/chaird
MANDIR = $(DATADIR)/man

# Parts other people add later are picked up when present (wildcards) and skipped when not.
PKG_IFACE_XML := $(wildcard dbus/org.chaird.*.xml)
PKG_MANPAGES := $(wildcard man/*.[1-8] docs/man/*.[1-8] docs/*.[1-8])
PKG_PROGRAMS := $(wildcard config/programs/*.program)
PKG_DOCS := $(wildcard README.md docs/*.md)
PKG_SED := sed -e 's|/usr/sbin/chaird|$(SBINDIR)/chaird|g' -e 's|/usr/libexec/chaird|$(LIBEXECDIR)|g' \
	-e 's|/usr/share/doc/chaird|$(DOCDIR)|g'

VM_CACHE ?= $(or $(CHAIRD_VM_CACHE),/var/cache/chaird-vm)

.PHONY: install install-files deb vm-check vm-check-gpio vm-check-systemd check-packaging

install: all
	@$(MAKE) --no-print-directory install-files

# Separate from install so the Debian build (already built) and the checks can place files alone.
install-files:
	install -Dm0755 $(BUILD)/chaird $(DESTDIR)$(SBINDIR)/chaird
	install -Dm0755 $(BUILD)/chair-sim $(DESTDIR)$(BINDIR)/chair-sim
	$(if $(wildcard $(BUILD)/chairctl),install -Dm0755 $(BUILD)/chairctl $(DESTDIR)$(BINDIR)/chairctl)
	install -d $(DESTDIR)$(LIBEXECDIR)
	$(PKG_SED) packaging/chaird-config-lib.sh >$(DESTDIR)$(LIBEXECDIR)/chaird-config-lib.sh
	$(PKG_SED) packaging/chaird-safe-outputs >$(DESTDIR)$(LIBEXECDIR)/chaird-safe-outputs
	chmod 0644 $(DESTDIR)$(LIBEXECDIR)/chaird-config-lib.sh
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/chaird-safe-outputs
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(SYSTEMD_GENERATORDIR)
	$(PKG_SED) packaging/chaird.service >$(DESTDIR)$(SYSTEMD_UNITDIR)/chaird.service
	$(PKG_SED) packaging/chaird-generator >$(DESTDIR)$(SYSTEMD_GENERATORDIR)/chaird-generator
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/chaird.service
	chmod 0755 $(DESTDIR)$(SYSTEMD_GENERATORDIR)/chaird-generator
	install -Dm0644 packaging/chaird.sysusers $(DESTDIR)$(SYSUSERSDIR)/chaird.conf
	install -Dm0644 packaging/chaird.tmpfiles $(DESTDIR)$(TMPFILESDIR)/chaird.conf
	install -Dm0644 packaging/60-chaird.rules $(DESTDIR)$(UDEVDIR)/rules.d/60-chaird.rules
	install -Dm0644 dbus/org.chaird.Chair1.conf $(DESTDIR)$(DBUS_POLICYDIR)/org.chaird.Chair1.conf
	$(foreach f,$(PKG_IFACE_XML),install -Dm0644 $(f) $(DESTDIR)$(DBUS_INTERFACESDIR)/$(notdir $(f))$(nl))
	$(foreach f,$(PKG_MANPAGES),install -Dm0644 $(f) \
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(f)))/$(notdir $(f))$(nl))
	$(foreach f,$(PKG_PROGRAMS),install -Dm0644 $(f) $(DESTDIR)$(DATADIR)/chaird/programs/$(notdir $(f))$(nl))
	install -Dm0644 cli/chairctl.bash-completion $(DESTDIR)$(BASH_COMPLETIONDIR)/chairctl
	ln -sf chairctl $(DESTDIR)$(BASH_COMPLETIONDIR)/chaird
	install -Dm0644 config/examples/chaird.conf $(DESTDIR)$(DOCDIR)/examples/chaird.conf
	$(foreach f,$(PKG_DOCS),install -Dm0644 $(f) $(DESTDIR)$(DOCDIR)/$(notdir $(f))$(nl))

define nl


endef

# The packaging checks that `make check` runs too (tests/integration/60-packaging.sh).
check-packaging: all
	@bash tests/integration/60-packaging.sh $(BUILD)

# Binary packages chaird and chaird-sim: dpkg-buildpackage writes them to the parent folder (its
# convention); lintian must report no error; copies land in $(BUILD)/deb.
DEB_DEPS := dpkg-dev debhelper lintian libdbus-1-dev bash-completion
deb:
	@bash -c 'source tests/vm/lib.sh && vm_need $(DEB_DEPS)'
	dpkg-buildpackage -us -uc -b
	lintian --fail-on error ../chaird_$(VERSION)_$(shell dpkg --print-architecture).changes
	@mkdir -p $(BUILD)/deb
	cp ../chaird_$(VERSION)_*.deb ../chaird-sim_$(VERSION)_*.deb $(BUILD)/deb/

# Boots real kernels under QEMU (TCG); caches in $(VM_CACHE). Installs its own packages.
vm-check: vm-check-gpio vm-check-systemd

vm-check-gpio: all
	@bash tests/vm/gpio-sim.sh $(BUILD)

vm-check-systemd:
	@bash tests/vm/systemd.sh $(BUILD)
