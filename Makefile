# The front door. meson + ninja do the work; this file only names the
# everyday commands and makes sure the system packages are there first.
BUILD  ?= build
PREFIX ?= /usr/local
DEMO   ?= demo-data

.PHONY: all deps check demo bench fuzz install clean

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

check: all
	@scripts/deps.sh test
	@scripts/check.sh $(BUILD)

demo: all
	rm -rf $(DEMO)
	$(BUILD)/clawsweep demo $(DEMO)
	exec $(BUILD)/clawsweep -d $(DEMO) run

bench: all
	@scripts/bench.sh $(BUILD)

fuzz:
	@scripts/deps.sh build
	@scripts/fuzz.sh 300

install: all
	meson install -C $(BUILD) --destdir "$(DESTDIR)"

clean:
	rm -rf $(BUILD) build-asan build-clang build-fuzz
