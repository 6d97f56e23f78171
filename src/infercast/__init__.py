"""infercast: analytical LLM inference performance model."""
