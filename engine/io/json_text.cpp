// Depth-limited JSON parsing (json_text.h).
#include "io/json_text.h"

#include "core/error.h"

namespace tb::io {
namespace {

template <typename Json>
Json parse_limited(const std::string& text, const std::string& where) {
    return Json::parse(text, [&](int depth, typename Json::parse_event_t, Json&) {
        if (depth > kMaxJsonDepth) {
            throw FileError(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                            "the file is damaged or not the kind of file expected here");
        }
        return true;
    });
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& where) {
    return parse_limited<nlohmann::json>(text, where);
}

nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& where) {
    return parse_limited<nlohmann::ordered_json>(text, where);
}

}  // namespace tb::io
