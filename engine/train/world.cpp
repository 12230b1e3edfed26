#include "train/world.h"

#include <cstdlib>

#include "core/error.h"

namespace tb::dist {
namespace {

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
}

int env_int(const char* name, int fallback, int lo, int hi) {
    const char* v = env(name);
    if (!v) return fallback;
    char* end = nullptr;
    const long x = std::strtol(v, &end, 10);
    if (*end != '\0' || x < lo || x > hi) {
        throw ConfigError(std::string("environment variable ") + name + "=" + v + " is not a whole number in [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "]",
                          "launch with `tunebench-cli train config.yaml nproc_per_node=N`, or set torchrun's RANK, "
                          "WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT");
    }
    return static_cast<int>(x);
}

}  // namespace

World world_from_env() {
    World w;
    w.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 16);
    if (w.world_size == 1) return w;
    if (!env("RANK")) {
        throw ConfigError("WORLD_SIZE=" + std::to_string(w.world_size) + " is set but RANK is not",
                          "set RANK (0 … WORLD_SIZE-1) for every process, as torchrun does");
    }
    w.rank = env_int("RANK", 0, 0, w.world_size - 1);
    w.local_rank = env_int("LOCAL_RANK", w.rank, 0, w.world_size - 1);
    w.local_world_size = env_int("LOCAL_WORLD_SIZE", w.world_size, 1, w.world_size);
    const char* addr = env("MASTER_ADDR");
    if (!addr || !env("MASTER_PORT")) {
        throw ConfigError("WORLD_SIZE=" + std::to_string(w.world_size) + " is set but MASTER_ADDR or MASTER_PORT is not",
                          "set both to the address and a free port of the rank-0 machine (e.g. 127.0.0.1 and 29500)");
    }
    w.master_addr = addr;
    w.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
    return w;
}

}  // namespace tb::dist
