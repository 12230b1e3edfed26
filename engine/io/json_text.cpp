// Depth-limited JSON parsing (json_text.h).
#include "io/json_text.h"

#include "core/error.h"

namespace tb::io {
namespace {

template <typename Json>
Json parse_limited(const std::string& text, const std::string& where) {
    try {
        return Json::parse(text, [&](int depth, typename Json::parse_event_t, Json&) {
            if (depth > kMaxJsonDepth) {
                throw FileError(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                                "the file is damaged or not the kind of file expected here");
            }
            return true;
        });
    } catch (const nlohmann::json::out_of_range& e) {  // a number past double's range (1e999)
        throw FileError(where + ": a number is out of range: " + e.what(), "the file is damaged");
    }
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& where) {
    return parse_limited<nlohmann::json>(text, where);
}

nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& where) {
    return parse_limited<nlohmann::ordered_json>(text, where);
}

std::string dump_json(const nlohmann::json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dump_json(const nlohmann::ordered_json& value, int indent) {
    return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string json_excerpt(const nlohmann::json& value, size_t max_bytes) {
    std::string text = dump_json(value);
    if (text.size() <= max_bytes) return text;
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    return text.substr(0, cut) + "…";
}

}  // namespace tb::io
