// SFT encoding against MODELS.md §3.4's worked shapes (real ChatGLM3/ChatGLM2 tokenizers) and
// infer_seqlen's arithmetic.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/sft_encoding.h"
#include "model/model_config.h"
#include "test_support.h"
#include "tokenizer/tokenizer.h"

using namespace tb;

namespace {
std::unique_ptr<Tokenizer> shared_tokenizer(const std::string& folder, const std::string& model_type) {
    ModelConfig cfg;  // only the family hint: no model, so any vocabulary fits
    cfg.model_type = model_type;
    cfg.vocab_size = int64_t{1} << 20;
    return load_tokenizer(test::models_dir() / folder, &cfg);
}

std::vector<int64_t> cat(std::initializer_list<std::vector<int64_t>> parts) {
    std::vector<int64_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
}  // namespace

TEST(SftEncoding, InferSeqlenKeepsHeadsProportionally) {
    EXPECT_EQ(data::infer_seqlen(10, 20, 100), (std::pair<int64_t, int64_t>{10, 20}));
    EXPECT_EQ(data::infer_seqlen(10, 80, 100), (std::pair<int64_t, int64_t>{10, 80}));   // 2S < C → T = C - S
    EXPECT_EQ(data::infer_seqlen(60, 80, 100), (std::pair<int64_t, int64_t>{43, 57}));   // T = int(100·80/140), S = C - T
}

TEST(SftEncoding, ChatGLM3SystemAndOneTurnMatchTheWorkedShape) {
    auto tok = shared_tokenizer("chatglm3-6b-tokenizer", "chatglm");
    data::Example ex{{{"user", "你好"}, {"assistant", "你好，我是助手。"}}, "你是医生", "t"};
    auto e = data::encode_supervised(ex, ChatTemplate::get("chatglm3"), *tok, {});
    auto nl = tok->encode("\n");
    auto source = cat({{64790, 64792, 64794}, nl, tok->encode("你是医生"), {64795}, nl, tok->encode("你好"), {64796}});
    auto target = cat({nl, tok->encode("你好，我是助手。")});
    EXPECT_EQ(e.input_ids, cat({source, target, {2}}));
    // efficient_eos puts an eos label on a source's first token, but not on the first pair's
    // (LLaMA-Factory v0.9.5; v0.9.1 did it on every pair)
    std::vector<int64_t> labels(source.size(), data::kIgnoreIndex);
    EXPECT_EQ(e.labels, cat({labels, target, {2}}));

    // cutoff: heads kept, eos still appended; total never exceeds cutoff_len
    auto cut = data::encode_supervised(ex, ChatTemplate::get("chatglm3"), *tok, {.cutoff_len = 12});
    EXPECT_LE(cut.input_ids.size(), 12u);
    EXPECT_EQ(cut.input_ids.back(), 2);
    EXPECT_EQ(std::vector<int64_t>(cut.input_ids.begin(), cut.input_ids.begin() + 3), (std::vector<int64_t>{64790, 64792, 64794}));
}

TEST(SftEncoding, ChatGLM2TwoTurnsWithMaskHistoryAndTrainOnPrompt) {
    auto tok = shared_tokenizer("chatglm2-6b-tokenizer", "chatglm");
    data::Example ex{{{"user", "Q0"}, {"assistant", "A0"}, {"user", "Q1"}, {"assistant", "A1"}}, "", "t"};
    const auto& t = ChatTemplate::get("chatglm2");
    auto e = data::encode_supervised(ex, t, *tok, {});
    auto s0 = cat({{64790, 64792}, tok->encode("[Round 0]\n\n问：Q0\n\n答：")});
    auto s1 = cat({tok->encode("\n\n"), tok->encode("[Round 1]\n\n问：Q1\n\n答：")});
    auto t0 = tok->encode("A0"), t1 = tok->encode("A1");
    EXPECT_EQ(e.input_ids, cat({s0, t0, s1, t1, {2}}));
    std::vector<int64_t> l0(s0.size(), -100), l1(s1.size(), -100);
    l1[0] = 2;  // efficient_eos: eos label on every source but the first pair's
    EXPECT_EQ(e.labels, cat({l0, t0, l1, t1, {2}}));

    // mask_history encodes the pairs last first, so "the first pair" is then the last round
    auto masked = data::encode_supervised(ex, t, *tok, {.mask_history = true});
    EXPECT_EQ(masked.input_ids, e.input_ids);
    std::vector<int64_t> hidden(t0.size(), -100), m0(s0.size(), -100), m1(s1.size(), -100);
    m0[0] = 2;
    EXPECT_EQ(masked.labels, cat({m0, hidden, m1, t1, {2}}));
    data::SftEncodeOptions on_prompt;
    on_prompt.train_on_prompt = true;
    EXPECT_THROW(data::encode_supervised(ex, t, *tok, on_prompt), ConfigError);  // efficient_eos
}

TEST(SftEncoding, Llama2TrainOnPromptLabelsEverything) {
    auto tok = shared_tokenizer("llama2-tokenizer", "llama");
    data::Example ex{{{"user", "hi"}, {"assistant", "hello"}}, "", "t"};
    auto plain = data::encode_supervised(ex, ChatTemplate::get("llama2"), *tok, {});
    auto all = data::encode_supervised(ex, ChatTemplate::get("llama2"), *tok, {.train_on_prompt = true});
    EXPECT_EQ(all.labels, all.input_ids);
    EXPECT_EQ(plain.input_ids, all.input_ids);
    EXPECT_EQ(plain.input_ids.back(), 2);  // eos in the assistant slot
    EXPECT_EQ(plain.trained_tokens(), static_cast<int64_t>(tok->encode("hello").size()) + 1);
}

// Issue 16 item 14: a 50 MB cell is cut before tokenizing, and the encoding equals that of the
// text itself (truncated to cutoff_len as LLaMA-Factory does) — for Qwen's byte-level BPE (a
// space-free CJK run is one pre-tokenizer piece) and ChatGLM's SentencePiece.
TEST(SftEncoding, AHugeCellIsCutBeforeTokenizingWithTheSameResult) {
    std::string cjk;
    const std::string phrase = "患者主诉头痛三天，伴有恶心呕吐，无发热。";
    while (cjk.size() < (50u << 20)) cjk += phrase;
    for (const auto& [folder, type, tpl] : {std::tuple{"qwen3-tokenizer", "qwen2", "qwen"},
                                            std::tuple{"chatglm3-6b-tokenizer", "chatglm", "chatglm3"}}) {
        auto tok = shared_tokenizer(folder, type);
        const data::SftEncodeOptions o{.cutoff_len = 512};
        data::Example huge{{{"user", "总结病历"}, {"assistant", cjk}}, "", "t"};
        const auto got = data::encode_supervised(huge, ChatTemplate::get(tpl), *tok, o);
        // reference: the whole text of a 200 KB prefix (far more than 512 tokens) tokenized, then truncated
        data::Example prefix{{{"user", "总结病历"}, {"assistant", cjk.substr(0, phrase.size() * 3000)}}, "", "t"};
        const auto want = data::encode_supervised(prefix, ChatTemplate::get(tpl), *tok, o);
        EXPECT_EQ(got.input_ids, want.input_ids) << folder;
        EXPECT_EQ(got.labels, want.labels) << folder;
        EXPECT_EQ(static_cast<int64_t>(got.input_ids.size()), 512) << folder;
    }
}
