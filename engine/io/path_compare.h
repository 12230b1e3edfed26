// Path comparisons that hold however a path is spelt (./x, x/, x/../x, a link): both sides are
// resolved with weakly_canonical, so a folder that does not exist yet compares too.
#pragma once

#include <filesystem>

namespace tb::io {

// a is b, or lies inside b.
inline bool is_same_or_inside(const std::filesystem::path& a, const std::filesystem::path& b) {
    const auto rel = std::filesystem::weakly_canonical(a).lexically_relative(std::filesystem::weakly_canonical(b));
    return !rel.empty() && rel.begin()->string() != "..";
}

}  // namespace tb::io
