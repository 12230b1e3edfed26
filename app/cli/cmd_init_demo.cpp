// `init-demo DIR`: writes the embedded demo model and dataset (idempotent).
#include <iostream>

#include "commands.h"
#include "demo/demo_model.h"

namespace tb::cli {

void add_init_demo(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("init-demo", "write the embedded demo model and dataset into DIR");
    auto dir = std::make_shared<std::string>();
    sub->add_option("dir", *dir, "target folder")->required();
    sub->callback([&run, dir] {
        run = [dir] {
            std::cout << init_demo(*dir).string() << std::endl;
            return 0;
        };
    });
}

}  // namespace tb::cli
