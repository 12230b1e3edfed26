// The text of one reply as its tokens arrive: incremental decoding (whole UTF-8 characters only),
// stop strings (the reply ends before the first one; text that could begin one is held back
// until it cannot), and the streaming callback, which may ask to stop. Used by the chat
// generator and by batched generation, one per row.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tb {

using TextCallback = std::function<bool(const std::string& delta)>;

class ReplyText {
public:
    ReplyText(const Tokenizer& tokenizer, const std::vector<std::string>& stop_strings, TextCallback on_text = {});
    // Adds a generated token. False when the reply ends here: a stop string appeared (finish_reason
    // "stop") or the callback asked to stop ("cancelled").
    bool push(int64_t id);
    // Emits what is still held back (call once at the end unless push returned false).
    void flush();
    const std::string& text() const { return text_; }
    const std::string& finish_reason() const { return finish_reason_; }

private:
    bool emit(const std::string& s);
    StreamDecoder stream_;
    std::vector<std::string> stop_strings_;
    TextCallback on_text_;
    size_t max_stop_ = 0;
    std::string text_, pending_, finish_reason_;
};

}  // namespace tb
