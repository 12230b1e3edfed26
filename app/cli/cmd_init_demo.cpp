// `init-demo DIR`: writes the embedded demo model and dataset (idempotent).
#include <iostream>

#include "commands.h"
#include "demo/demo_model.h"

namespace tb::cli {

void add_init_demo(CLI::App& app, std::function<int()>& run) {
    auto* sub = app.add_subcommand("init-demo", "write the embedded demo model and dataset into DIR");
    auto dir = std::make_shared<std::string>();
    auto train = std::make_shared<bool>(false);
    sub->add_option("dir", *dir, "target folder")->required();
    sub->add_flag("--train-tokenizer", *train,
                  "train the tokenizer from the demo text with libsentencepiece instead of writing the shipped one "
                  "(how datasets/demo/tunebench_demo_tokenizer.model is made); rebuilds the whole demo");
    sub->callback([&run, dir, train] {
        run = [dir, train] {
            std::cout << init_demo(*dir, *train ? DemoTokenizer::Train : DemoTokenizer::Shipped).string() << std::endl;
            return 0;
        };
    });
}

}  // namespace tb::cli
