// Chat options that change how a model is held: the attention kernel chosen per model
// (flash_attn), and an adapter kept unmerged so one loaded model answers as base and as tuned.
#include <gtest/gtest.h>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "infer/chat_session.h"
#include "model/decoder.h"
#include "test_support.h"

using namespace tb;

namespace {
InferenceArgs stories_args(const std::string& adapter = {}) {
    InferenceArgs args;
    args.model_name_or_path = (test::models_dir() / "stories260K-hf").string();
    args.adapter_name_or_path = adapter;
    args.template_name = "empty";
    args.device = "cpu";
    args.generation.do_sample = false;
    args.generation.max_new_tokens = 24;
    return args;
}

// A LoRA on q/v with random A and B, strong enough to change greedy continuations.
std::filesystem::path write_random_adapter(const std::filesystem::path& dir) {
    auto model = Model::load(test::models_dir() / "stories260K-hf", {.dtype = "float32", .device = "cpu"});
    LoraConfig cfg;
    cfg.r = 4;
    cfg.alpha = 8;
    cfg.target_modules = {"q_proj", "v_proj"};
    attach_lora(*model, cfg, /*seed=*/5);
    auto g = at::detail::createCPUGenerator(11);
    for (Linear* l : model->linears())
        if (l->lora) l->lora->B = at::randn(l->lora->B.sizes(), g) * 0.5;
    save_lora(*model, cfg, dir);
    return dir;
}

std::vector<int64_t> continuation(ChatSession& s) { return s.complete("Once upon a time").ids; }
}  // namespace

TEST(ChatSessionOptions, FlashAttnChoosesTheModelsKernel) {
    auto args = stories_args();
    EXPECT_EQ(ChatSession(args).model().attention_kernel(), AttentionKernel::Fused);
    args.flash_attn = "disabled";
    EXPECT_EQ(ChatSession(args).model().attention_kernel(), AttentionKernel::Eager);
    try {
        InferenceArgs::from_map({{"model_name_or_path", "m"}, {"flash_attn", "flash"}});
        FAIL() << "an unknown kernel was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("flash_attn 'flash'"), std::string::npos) << e.what();
        EXPECT_NE(e.hint().find("disabled"), std::string::npos) << e.hint();
    }
    EXPECT_EQ(InferenceArgs::from_map({{"model_name_or_path", "m"}, {"flash_attn", "sdpa"}}).flash_attn, "sdpa");
}

TEST(ChatSessionOptions, AdapterSwitchedOffAnswersAsTheBase) {
    test::TempDir tmp;
    const auto adapter = write_random_adapter(tmp.path / "adapter").string();
    ChatSession plain(stories_args()), merged(stories_args(adapter));
    ChatSession tuned(stories_args(adapter), /*unmerged_adapters=*/true);
    auto base = tuned.without_adapters();
    const auto plain_ids = continuation(plain), merged_ids = continuation(merged);
    ASSERT_NE(plain_ids, merged_ids) << "the test adapter does not change the answer";
    EXPECT_EQ(continuation(*base), plain_ids);
    EXPECT_EQ(continuation(tuned), merged_ids);  // switched back on after the base's turn
    EXPECT_EQ(base->args().adapter_name_or_path, "");
    EXPECT_THROW(merged.without_adapters(), Error);  // merged weights cannot be switched off
}

// The chat's comparison decoded in one batch (slot 0 with the adapter, slot 1 without) gives each
// side the reply it gets alone, turn after turn (each side's history differs from the second turn
// on, so the rows have different lengths), and records both histories.
TEST(ChatSessionOptions, TunedAndBaseRepliesDecodedTogetherEqualEachAlone) {
    test::TempDir tmp;
    const auto adapter = write_random_adapter(tmp.path / "adapter").string();
    auto args = stories_args(adapter);
    args.template_name = "default";
    ChatSession tuned(args, /*unmerged_adapters=*/true), alone_tuned(args, /*unmerged_adapters=*/true);
    auto base = tuned.without_adapters();
    auto alone_base = alone_tuned.without_adapters();
    std::string streamed[2];
    for (const std::string query : {"Once upon a time", "The little dog", "Lily and Ben"}) {
        const auto expect_tuned = alone_tuned.reply(query);
        const auto expect_base = alone_base->reply(query);
        ASSERT_NE(expect_tuned.ids, expect_base.ids) << "the test adapter does not change the answer";
        streamed[0].clear();
        streamed[1].clear();
        const auto r = tuned.reply_beside(*base, query, [&](int side, const std::string& d) {
            streamed[side] += d;
            return true;
        });
        EXPECT_EQ(r[0].ids, expect_tuned.ids) << query;
        EXPECT_EQ(r[1].ids, expect_base.ids) << query;
        EXPECT_EQ(r[0].text, expect_tuned.text);
        EXPECT_EQ(r[1].text, expect_base.text);
        EXPECT_EQ(r[0].finish_reason, expect_tuned.finish_reason);
        EXPECT_EQ(streamed[0], r[0].text);
        EXPECT_EQ(streamed[1], r[1].text);
    }
    EXPECT_EQ(tuned.history(), alone_tuned.history());
    EXPECT_EQ(base->history(), alone_base->history());
    EXPECT_GT(tuned.history().back().second.size(), 0u);
    EXPECT_THROW(tuned.reply_beside(tuned, "x"), Error);  // the second session must be its base
}
