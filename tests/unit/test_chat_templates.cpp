// Chat templates render exactly the ids MODELS.md §2–3 gives (single- and multi-turn, system
// prompts), with the real tokenizers from ../shared/models.
#include <gtest/gtest.h>

#include "core/error.h"
#include "model/model_config.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "test_support.h"

using namespace tb;
using Ids = std::vector<int64_t>;

namespace {
std::unique_ptr<Tokenizer> glm_tokenizer() {
    auto folder = test::models_dir() / "chatglm3-6b-tokenizer";
    auto c = ModelConfig::from_folder(folder);
    return load_tokenizer(folder, &c);
}
Ids cat(std::initializer_list<Ids> parts) {
    Ids out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
}  // namespace

TEST(ChatTemplates, ChatGLM3SingleTurnEqualsBuildChatInput) {
    auto tok = glm_tokenizer();
    const auto& t = ChatTemplate::get("chatglm3");
    // MODELS.md §2.4: build_chat_input("如何准备数据分析师面试？")
    EXPECT_EQ(encode_prompt(t, *tok, {}, "如何准备数据分析师面试？", ""),
              Ids({64790, 64792, 64795, 30910, 13, 51310, 32080, 31786, 43454, 33605, 31514, 64796}));
    // models README: chatglm.cpp Pipeline.ChatGLM3 case
    EXPECT_EQ(encode_prompt(t, *tok, {}, "你好", ""), Ids({64790, 64792, 64795, 30910, 13, 36474, 54591, 64796}));
}

TEST(ChatTemplates, ChatGLM3MultiTurnAndSystem) {
    auto tok = glm_tokenizer();
    const auto& t = ChatTemplate::get("chatglm3");
    const Ids nl = {30910, 13};
    auto sp = [&](const std::string& s) { return tok->encode(s); };
    // §2.4: [gMASK, sop] + <|user|> sp("\n") sp(q1) <|assistant|> sp("\n") sp(a1) <|user|> ... <|assistant|>
    EXPECT_EQ(encode_prompt(t, *tok, {{"你好", "你好！"}}, "再见", ""),
              cat({{64790, 64792, 64795}, nl, sp("你好"), {64796}, nl, sp("你好！"), {64795}, nl, sp("再见"), {64796}}));
    // §3.4 worked shape: a system item adds <|system|> sp("\n") sp(S) after [gMASK, sop]
    EXPECT_EQ(encode_prompt(t, *tok, {}, "Q", "You are helpful."),
              cat({{64790, 64792, 64794}, nl, sp("You are helpful."), {64795}, nl, sp("Q"), {64796}}));
    // Training pairs: efficient_eos, so the assistant turn has no eos.
    auto pairs = encode_multiturn(t, *tok, {{"user", "Q"}, {"assistant", "A"}}, "");
    ASSERT_EQ(pairs.size(), 1u);
    EXPECT_EQ(pairs[0].second, cat({nl, sp("A")}));
    EXPECT_EQ(template_stop_ids(t, *tok), Ids({2, 64795, 64797}));
}

TEST(ChatTemplates, ChatGLM2RoundsAreZeroBasedAsInLlamaFactory) {
    auto tok = glm_tokenizer();
    const auto& t = ChatTemplate::get("chatglm2");
    auto sp = [&](const std::string& s) { return tok->encode(s); };
    auto msgs = encode_messages(t, *tok, {{"user", "Q0"}, {"assistant", "A0"}, {"user", "你好"}}, "");
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[0], cat({{64790, 64792}, sp("[Round 0]\n\n问：Q0\n\n答：")}));
    EXPECT_EQ(msgs[1], sp("A0"));  // efficient_eos: no eos
    // The second user turn: separator "\n\n" then the official "[Round 1]" prompt ids (README vector).
    EXPECT_EQ(msgs[2], cat({sp("\n\n"), {790, 30951, 517, 30910, 30939, 30996, 13, 13, 54761, 31211, 39701, 13, 13, 55437, 31211}}));
}

TEST(ChatTemplates, QwenChatML) {
    auto tok = load_tokenizer(test::models_dir() / "qwen2-tokenizer", nullptr);
    const auto& t = ChatTemplate::get("qwen");
    auto ids = encode_prompt(t, *tok, {{"Hi", "Hello!"}}, "你好", "");
    EXPECT_EQ(tok->decode(ids, false),
              "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
              "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
              "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n");
    // Slots are encoded one by one: the system slot's ids are exactly encode(system string).
    auto sys = tok->encode("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n");
    EXPECT_EQ(Ids(ids.begin(), ids.begin() + sys.size()), sys);
    EXPECT_EQ(template_eos_id(t, *tok), 151645);  // replace_eos: <|im_end|>
}

TEST(ChatTemplates, Llama3) {
    auto tok = load_tokenizer(test::models_dir() / "llama3-tokenizer", nullptr);
    const auto& t = ChatTemplate::get("llama3");
    auto ids = encode_prompt(t, *tok, {}, "你好", "Be brief.");
    EXPECT_EQ(ids[0], 128000);
    EXPECT_EQ(ids[1], 128006);
    EXPECT_EQ(tok->decode(ids, false),
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\n你好<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    auto pairs = encode_multiturn(t, *tok, {{"user", "Q"}, {"assistant", "A"}}, "");
    EXPECT_EQ(pairs[0].second.back(), 128009);  // eos := <|eot_id|>
}

TEST(ChatTemplates, Llama2SystemInsideFirstInst) {
    auto tok = load_tokenizer(test::models_dir() / "llama2-tokenizer", nullptr);
    const auto& t = ChatTemplate::get("llama2");
    auto sp = [&](const std::string& s) { return tok->encode(s); };
    auto ids = encode_prompt(t, *tok, {{"Hi", "Hello"}}, "Bye", "S");
    EXPECT_EQ(ids, cat({{1}, sp("[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST]"), sp("Hello"), {2}, {1}, sp("[INST] Bye [/INST]")}));
}

TEST(ChatTemplates, DefaultAlpacaEmpty) {
    auto tok = load_tokenizer(test::models_dir() / "qwen2-tokenizer", nullptr);
    EXPECT_EQ(tok->decode(encode_prompt(ChatTemplate::get("default"), *tok, {{"a", "b"}}, "c", "")),
              "Human: a\nAssistant:b\nHuman: c\nAssistant:");
    EXPECT_EQ(tok->decode(encode_prompt(ChatTemplate::get("alpaca"), *tok, {}, "c", "")),
              "Below is an instruction that describes a task. Write a response that appropriately completes the "
              "request.\n\n### Instruction:\nc\n\n### Response:\n");
    EXPECT_EQ(tok->decode(encode_prompt(ChatTemplate::get("empty"), *tok, {}, "plain text", "")), "plain text");
}

TEST(ChatTemplates, UnknownTemplateAndMissingTokenAreClearErrors) {
    try {
        ChatTemplate::get("chatglm9");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("chatglm9"), std::string::npos);
        EXPECT_NE(e.hint().find("chatglm3"), std::string::npos);
    }
    auto tok = load_tokenizer(test::models_dir() / "llama2-tokenizer", nullptr);
    EXPECT_THROW(encode_prompt(ChatTemplate::get("chatglm3"), *tok, {}, "x", ""), ConfigError);
}

TEST(ChatTemplates, DetectedFromTheModelFolder) {
    const std::pair<const char*, const char*> cases[] = {{"chatglm3-6b-tokenizer", "chatglm3"},
                                                         {"chatglm2-6b-tokenizer", "chatglm2"},
                                                         {"qwen2-tokenizer", "qwen"},
                                                         {"stories260K-hf", "empty"}};
    for (const auto& [folder_name, expected] : cases) {
        auto folder = test::models_dir() / folder_name;
        auto c = ModelConfig::from_folder(folder);
        auto tok = load_tokenizer(folder, &c);
        EXPECT_EQ(detect_template(folder, c, *tok), expected) << folder_name;
    }
}
