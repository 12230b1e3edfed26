// ChatHandle forwards to ChatSession.
#include "infer/chat_handle.h"

#include <sstream>

#include "infer/chat_session.h"

namespace tb {

ChatHandle::ChatHandle(const InferenceArgs& args, bool unmerged_adapters)
    : session_(std::make_unique<ChatSession>(args, unmerged_adapters)) {}
ChatHandle::ChatHandle(std::unique_ptr<ChatSession> session) : session_(std::move(session)) {}
ChatHandle::~ChatHandle() = default;

std::unique_ptr<ChatHandle> ChatHandle::without_adapters() const {
    return std::unique_ptr<ChatHandle>(new ChatHandle(session_->without_adapters()));
}

ChatReply ChatHandle::reply(const std::string& query, const std::function<bool(const std::string&)>& on_text,
                            const std::atomic<bool>* cancel) {
    auto r = session_->reply(query, on_text, cancel);
    return {r.text, r.finish_reason, static_cast<int64_t>(r.ids.size()), r.tokens_per_second()};
}

std::array<ChatReply, 2> ChatHandle::reply_beside(ChatHandle& base, const std::string& query,
                                                  const std::function<bool(int, const std::string&)>& on_text,
                                                  const std::atomic<bool>* cancel) {
    auto r = session_->reply_beside(*base.session_, query, on_text, cancel);
    std::array<ChatReply, 2> out;
    for (int side = 0; side < 2; ++side)
        out[side] = {r[side].text, r[side].finish_reason, static_cast<int64_t>(r[side].ids.size()),
                     r[side].tokens_per_second()};
    return out;
}

void ChatHandle::clear() { session_->clear(); }
void ChatHandle::set_generation(const GenerationConfig& g) { session_->generation() = g; }

std::string ChatHandle::summary() const {
    const auto& m = session_->model();
    std::ostringstream os;
    os << arch_name(m.config().arch) << ", " << m.config().parameter_count() << " parameters, "
       << c10::toString(m.dtype()) << " on " << m.device().str() << ", template " << session_->chat_template().name;
    return os.str();
}

}  // namespace tb
