# The two commands of kiln (see README.md):
#   make demo   score the example customer batch with the example model and show the report
#   make test   run every test suite (Rust, C ABI, Python, R, Java), installing what they need

.PHONY: demo test header

demo:
	cargo build --release --bin kiln
	./target/release/kiln inspect examples/bank/model.kiln
	./target/release/kiln score --model examples/bank/model.kiln \
		--input examples/bank/customers.csv --output target/bank-scores.csv --keep customer_id
	@echo "scores written to target/bank-scores.csv"

test:
	bash scripts/test-all.sh

header:
	bash scripts/gen-header.sh
