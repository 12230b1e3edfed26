// Stop strings are searched in the decoded text not yet emitted; see reply_text.h.
#include "infer/reply_text.h"

#include <algorithm>

namespace tb {

ReplyText::ReplyText(const Tokenizer& tokenizer, const std::vector<std::string>& stop_strings, TextCallback on_text)
    : stream_(tokenizer), stop_strings_(stop_strings), on_text_(std::move(on_text)) {
    for (const auto& s : stop_strings_) max_stop_ = std::max(max_stop_, s.size());
}

bool ReplyText::emit(const std::string& s) {
    if (s.empty()) return true;
    text_ += s;
    if (!on_text_ || on_text_(s)) return true;
    finish_reason_ = "cancelled";
    return false;
}

bool ReplyText::push(int64_t id) {
    pending_ += stream_.push(id);
    if (max_stop_ == 0) {
        const bool go_on = emit(pending_);
        pending_.clear();
        return go_on;
    }
    size_t hit = std::string::npos;
    for (const auto& s : stop_strings_) hit = std::min(hit, pending_.find(s));
    if (hit != std::string::npos) {
        emit(pending_.substr(0, hit));
        pending_.clear();
        finish_reason_ = "stop";
        return false;
    }
    // emit all but a tail that might begin a stop string (cut on a UTF-8 boundary)
    size_t cut = pending_.size() > max_stop_ ? pending_.size() - max_stop_ : 0;
    while (cut > 0 && (static_cast<unsigned char>(pending_[cut]) & 0xC0) == 0x80) --cut;
    const bool go_on = emit(pending_.substr(0, cut));
    pending_.erase(0, cut);
    if (!go_on) pending_.clear();
    return go_on;
}

void ReplyText::flush() {
    pending_ += stream_.flush();
    emit(pending_);
    pending_.clear();
}

}  // namespace tb
