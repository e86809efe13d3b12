# Waiting-room displays (package display): the voice clips and the display
# latency benchmark. Included from the Makefile.
#
#   make voices         regenerate assets/static/voice (commit the result)
#   make display-bench  the "Display latency" figures of BENCHMARKS.md

GO ?= go

# What make voices needs beyond Go (Debian packages).
VOICE_PACKAGES := espeak-ng sox lame
VOICE_DIR      ?= assets/static/voice

.PHONY: voices voices-deps display-bench

voices-deps: ## install espeak-ng, sox and lame when missing (for make voices)
	@missing=""; for p in $(VOICE_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

voices: voices-deps ## regenerate the displays' voice clips (espeak-ng, sox, lame) into assets/static/voice
	$(GO) run ./display/voicegen -out $(VOICE_DIR)

display-bench: ## call-next to display DOM latency in headless Chromium, alone and with 1,000 live clients
	$(GO) test ./display/ -run '^$$' -bench CallToDisplay -benchtime 200x -count 1 -timeout 20m
