// ThoughtStream; see thought_stream.h.
#include "infer/thought_stream.h"

#include <algorithm>

namespace tb {

ThoughtStream::ThoughtStream(std::string open, std::string close) : open_(std::move(open)), close_(std::move(close)) {}

void ThoughtStream::emit(std::vector<Piece>& out, bool thought, const std::string& text) {
    if (text.empty()) return;
    if (!out.empty() && out.back().thought == thought) out.back().text += text;
    else out.push_back({thought, text});
}

std::vector<ThoughtStream::Piece> ThoughtStream::push(const std::string& delta) {
    std::vector<Piece> out;
    std::string text = held_ + delta;
    held_.clear();
    for (;;) {
        // only one thought per reply: once it closed, everything is answer
        const std::string& tag = in_thought_ ? close_ : open_;
        if (thought_done_) {
            emit(out, false, text);
            return out;
        }
        const size_t at = text.find(tag);
        if (at != std::string::npos) {
            emit(out, in_thought_, text.substr(0, at));
            text = text.substr(at + tag.size());
            if (in_thought_) thought_done_ = true;
            in_thought_ = !in_thought_;
            continue;
        }
        // hold back a tail that could be the start of the tag
        size_t keep = 0;
        for (size_t n = std::min(tag.size() - 1, text.size()); n > 0; --n) {
            if (text.compare(text.size() - n, n, tag, 0, n) == 0) {
                keep = n;
                break;
            }
        }
        emit(out, in_thought_, text.substr(0, text.size() - keep));
        held_ = text.substr(text.size() - keep);
        return out;
    }
}

std::vector<ThoughtStream::Piece> ThoughtStream::flush() {
    std::vector<Piece> out;
    emit(out, in_thought_, held_);
    held_.clear();
    return out;
}

}  // namespace tb
