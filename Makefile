# The two commands of kiln (see README.md):
#   make demo   score the example customer batch with the example model and show the report
#   make test   run every test suite (Rust, C ABI, Python, R, Java), installing what they need

.PHONY: demo test header

demo:
	cargo build --release --bin kiln
	./target/release/kiln inspect examples/bank/model.kiln
	@# The training data's profile goes into a copy of the model, so scoring can check null
	@# rates against training and measure drift.
	./target/release/kiln profile --model examples/bank/model.kiln examples/bank/train.csv \
		--attach -o target/bank-model.kiln
	./target/release/kiln score --model target/bank-model.kiln \
		--input examples/bank/customers.csv --output target/bank-scores.csv --keep customer_id
	@echo "scores written to target/bank-scores.csv"
	./target/release/kiln drift --model target/bank-model.kiln examples/bank/customers.csv

test:
	bash scripts/test-all.sh

header:
	bash scripts/gen-header.sh
