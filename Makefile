# visurf: two commands do all set-up on a fresh machine.
#   make demo   - the main job on the built-in default
#   make test   - build everything and run the test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help
NODE_GYP := node_modules/.bin/node-gyp
# Build native code against the local Node headers: nothing is downloaded.
NODEDIR := $(shell if [ -f /usr/include/node/node_api.h ]; then echo /usr; else dirname $$(dirname $$(readlink -f $$(which node))); fi)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps system-deps test-deps build native ts test demo bench bench-torch clean

help:
	@echo "make demo   - run the main job (installs what it needs)"
	@echo "make test   - run the test suite (installs what it needs)"
	@echo "make bench  - run the speed benchmark (BENCH.md configuration)"
	@echo "make bench-torch - visurf against PyTorch 1.13 on the same model and step, alternating"

system-deps:
	@if [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then \
	  echo "installing Debian package libdnnl-dev (oneDNN)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libdnnl-dev; \
	fi

test-deps:
	@# Chromium is only for the browser test of the HTML report: if it cannot be installed
	@# (e.g. the package mirror is down), that test skips itself and everything else goes on.
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian package chromium (for the report's browser test)"; \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium ) \
	    || echo "visurf: could not install chromium; the report's browser test will be skipped"; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

deps: system-deps node_modules/.installed

native: deps
	@if [ ! -f build/Makefile ]; then $(NODE_GYP) configure --nodedir=$(NODEDIR); fi
	$(NODE_GYP) build --nodedir=$(NODEDIR) -j 2

ts: deps
	node_modules/.bin/tsc -p tsconfig.json

build: native ts

test: build test-deps
	node --test --test-concurrency=1 dist/test/

demo: build
	node dist/src/cli/main.js demo

bench: build
	node dist/src/cli/main.js bench

# Not part of `make test`: it takes the machine for a long time. Debian's torch takes its f32
# matmuls from libblas.so.3; python3-torch only *recommends* OpenBLAS, and without it (an install
# with recommends off) that is netlib's unoptimised reference BLAS, so OpenBLAS is installed too
# when torch_bench.py finds the reference BLAS loaded.
bench-torch: build
	@if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  echo "installing Debian packages python3-torch, libopenblas0 (PyTorch 1.13, the reference of bench/torch_bench.py)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-torch libopenblas0; \
	elif /usr/bin/python3 bench/torch_bench.py --params | grep -q '"reference_blas": true'; then \
	  echo "installing Debian package libopenblas0 (PyTorch's f32 matmuls run on the reference BLAS without it)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libopenblas0; \
	fi
	node bench/paired.mjs

clean:
	rm -rf dist build
