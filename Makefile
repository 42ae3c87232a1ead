# Benchmarks of the SDK; see BENCHMARKS.md for the last measured figures.
# Output is in Go's benchmark format (feed it to benchstat if installed).

GO ?= go
COUNT ?= 6
E2E_COUNT ?= 3

.PHONY: bench bench-crypto bench-e2e bench-micro bench-bill

bench: bench-crypto bench-e2e bench-micro bench-bill

# Raw RSA-2048 PS256 sign+verify vs the SDK's sign+verify.
bench-crypto:
	$(GO) test ./fapi -run '^$$' -bench 'PS256|SignRequest|VerifyResponse|Message' -benchmem -count $(COUNT)

# The full create-payment path against the in-process sandbox bank.
bench-e2e:
	$(GO) test ./payments -run '^$$' -bench 'CreatePayment' -benchmem -count $(E2E_COUNT)

# Consent and payments micro-benchmarks.
bench-micro:
	$(GO) test ./payments ./consent -run '^$$' -bench . -skip 'CreatePayment' -benchmem -count $(COUNT)

# Billing 100k consents (SQLite always; PostgreSQL when PIXAUTO_TEST_POSTGRES_URL is set).
bench-bill:
	$(GO) test ./pixauto/store/sqlite -run '^$$' -bench 'Bill100kConsents' -benchtime 1x -benchmem -timeout 30m
	@if [ -n "$$PIXAUTO_TEST_POSTGRES_URL" ]; then \
		$(GO) test ./pixauto/store/postgres -run '^$$' -bench 'Bill100kConsents' -benchtime 1x -benchmem -timeout 30m; \
	else \
		echo "bench-bill: PIXAUTO_TEST_POSTGRES_URL is not set; skipping the PostgreSQL 100k bill"; \
	fi
