# The fuzz targets (tests/fuzz/<name>.cpp, corpus in tests/fuzz/corpus/<name>/, inputs that once
# crashed in tests/fuzz/crashes/<name>/), shared by the fuzz build and the replay tests.
set(TB_FUZZ_TARGETS safetensors torch_bin tokenizer_json vocab_merges sentencepiece dataset yaml_config adapter_config
    zip_import tokenizer_config model_config gguf predictions)
# The demo's SentencePiece model, beside which tokenizer_config.json is fuzzed.
get_filename_component(TB_DEMO_TOKENIZER ${CMAKE_CURRENT_LIST_DIR}/../../datasets/demo/tunebench_demo_tokenizer.model ABSOLUTE)
