// ThoughtStream (infer/thought_stream.h): a reasoning model's reply split into thought and answer
// whatever the deltas' boundaries — every cut of the reply into two, one character at a time, and
// the stream decoder's own chunks — equal to the split of the whole reply.
#include <gtest/gtest.h>

#include "infer/thought_stream.h"

using namespace tb;

namespace {
// (thought, answer) of a reply streamed in the given pieces
std::pair<std::string, std::string> split(const std::vector<std::string>& deltas) {
    ThoughtStream s;
    std::pair<std::string, std::string> r;
    auto take = [&](const std::vector<ThoughtStream::Piece>& pieces) {
        for (const auto& p : pieces) (p.thought ? r.first : r.second) += p.text;
    };
    for (const auto& d : deltas) take(s.push(d));
    take(s.flush());
    return r;
}
}  // namespace

TEST(ThoughtStream, AnyCutGivesTheSameThoughtAndAnswer) {
    const std::string reply = "<think>\n用户问头痛。先想病因：<思考>不是标签</think>\n\n建议休息，<think>留在答案里</think>。";
    const std::pair<std::string, std::string> want = {"\n用户问头痛。先想病因：<思考>不是标签", "\n\n建议休息，<think>留在答案里</think>。"};
    EXPECT_EQ(split({reply}), want);
    for (size_t cut = 0; cut <= reply.size(); ++cut)
        EXPECT_EQ(split({reply.substr(0, cut), reply.substr(cut)}), want) << "cut at byte " << cut;
    std::vector<std::string> bytes;
    for (char c : reply) bytes.emplace_back(1, c);
    EXPECT_EQ(split(bytes), want);
}

TEST(ThoughtStream, RepliesWithoutOrWithAnUnfinishedThought) {
    EXPECT_EQ(split({"直接回答，", "没有思考。"}), std::make_pair(std::string(), std::string("直接回答，没有思考。")));
    EXPECT_EQ(split({"<think>想到一半", "被停止"}), std::make_pair(std::string("想到一半被停止"), std::string()));
    // a tag begun but never finished is text
    EXPECT_EQ(split({"答案 <thi"}), std::make_pair(std::string(), std::string("答案 <thi")));
    EXPECT_EQ(split({"<think>x</thi"}), std::make_pair(std::string("x</thi"), std::string()));
    ThoughtStream s;
    s.push("<think>a");
    EXPECT_TRUE(s.in_thought());
    EXPECT_FALSE(s.thought_done());
    s.push("</think>b");
    EXPECT_TRUE(s.thought_done());
}
