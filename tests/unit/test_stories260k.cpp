// The real trained stories260K model (../shared/models/stories260K-hf) must generate, greedy
// from BOS with the empty template, the story documented in ../shared/models/README.md.
#include <gtest/gtest.h>

#include "infer/chat_session.h"
#include "test_support.h"

using namespace tb;

namespace {
// Greedy, empty template, on the CPU.
ChatSession stories(int64_t max_new_tokens) {
    InferenceArgs args;
    args.model_name_or_path = (test::models_dir() / "stories260K-hf").string();
    args.template_name = "empty";
    args.device = "cpu";
    args.generation.do_sample = false;
    args.generation.max_new_tokens = max_new_tokens;
    return ChatSession(args);
}
}  // namespace

TEST(Stories260K, GreedyFromBosReproducesTheDocumentedStory) {
    auto session = stories(120);
    EXPECT_EQ(session.prompt_ids(""), std::vector<int64_t>({1}));  // just BOS
    auto r = session.complete("");
    // Ids documented in the README (transformers greedy generate, BOS excluded).
    const std::vector<int64_t> documented = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338};
    ASSERT_GE(r.ids.size(), documented.size());
    EXPECT_EQ(std::vector<int64_t>(r.ids.begin(), r.ids.begin() + documented.size()), documented);
    const std::string story =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, "
        "she saw a big, red ball. She wanted to play with it, but it was too high.";
    EXPECT_EQ(r.text.substr(0, story.size()), story);
}

TEST(Stories260K, PromptContinuationMatchesReadme) {
    auto session = stories(30);
    auto r = session.complete("Tom and his dog");
    // README: "Tom and his dog, Max, who lived in a big house. They liked to play ..."
    EXPECT_EQ(r.text.substr(0, 44), ", Max, who lived in a big house. They liked ");
}
