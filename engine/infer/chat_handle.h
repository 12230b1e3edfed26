// The torch-free face of ChatSession for the GUI (ui/ never includes torch headers).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "infer/inference_args.h"

namespace tb {

class ChatSession;

struct ChatReply {
    std::string text;
    std::string finish_reason;  // stop | length | cancelled
    int64_t tokens = 0;
    double tokens_per_second = 0;
};

class ChatHandle {
public:
    // Loads; throws tb::Error. unmerged_adapters: see ChatSession (needed for without_adapters()).
    explicit ChatHandle(const InferenceArgs& args, bool unmerged_adapters = false);
    ~ChatHandle();
    // The same loaded model with its adapter switched off (ChatSession::without_adapters).
    std::unique_ptr<ChatHandle> without_adapters() const;

    ChatReply reply(const std::string& query, const std::function<bool(const std::string&)>& on_text,
                    const std::atomic<bool>* cancel);
    // This chat's reply and `base`'s (made by without_adapters() of this one) decoded together
    // (ChatSession::reply_beside): on_text(side, delta), side 0 this chat, 1 the base.
    std::array<ChatReply, 2> reply_beside(ChatHandle& base, const std::string& query,
                                          const std::function<bool(int side, const std::string&)>& on_text,
                                          const std::atomic<bool>* cancel);
    void clear();
    void set_generation(const GenerationConfig& g);
    std::string summary() const;  // architecture, size, dtype, device, template

private:
    explicit ChatHandle(std::unique_ptr<ChatSession> session);
    std::unique_ptr<ChatSession> session_;
};

}  // namespace tb
