// A streamed reply split into its thought (<think> … </think>, as reasoning models such as Qwen3
// write it) and its answer, delta by delta, for a chat view that shows the thought apart. A tag cut
// between two deltas is held back until it is whole. No torch here.
#pragma once

#include <string>
#include <vector>

namespace tb {

class ThoughtStream {
public:
    struct Piece {
        bool thought = false;  // inside <think> … </think>
        std::string text;
        bool operator==(const Piece& o) const { return thought == o.thought && text == o.text; }
    };
    ThoughtStream() : ThoughtStream("<think>", "</think>") {}
    ThoughtStream(std::string open, std::string close);

    // The text of `delta` that is certain, in order; tags are dropped.
    std::vector<Piece> push(const std::string& delta);
    // At the end of the reply: whatever was held back (an unfinished tag is text after all).
    std::vector<Piece> flush();
    bool in_thought() const { return in_thought_; }
    // A thought has closed (the answer follows).
    bool thought_done() const { return thought_done_; }

private:
    void emit(std::vector<Piece>& out, bool thought, const std::string& text);
    std::string open_, close_;
    std::string held_;
    bool in_thought_ = false;
    bool thought_done_ = false;
};

}  // namespace tb
