// Which process of a data-parallel run this is, from torchrun's environment variables. No torch.
#pragma once

#include <string>

namespace tb::dist {

struct World {
    int rank = 0, world_size = 1, local_rank = 0, local_world_size = 1;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    bool distributed() const { return world_size > 1; }
    bool is_main() const { return rank == 0; }
};

// RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT as torchrun sets them.
// WORLD_SIZE unset or 1: one process. Throws ConfigError naming the variable when a value is not a
// number, out of range, or a required one is missing.
World world_from_env();

}  // namespace tb::dist
