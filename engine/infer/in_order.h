// Results that finish out of order (batched generation) handed on in input order, each as soon as
// every earlier one has been: what keeps an output file a prefix of the input, so an interrupted
// run resumes after its last complete row. Torch-free.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <utility>

namespace tb {

template <class T>
class InOrder {
public:
    InOrder(size_t first, std::function<void(size_t index, T&& value)> write) : next_(first), write_(std::move(write)) {}
    void add(size_t index, T&& value) {
        waiting_.emplace(index, std::move(value));
        while (!waiting_.empty() && waiting_.begin()->first == next_) {
            write_(next_, std::move(waiting_.begin()->second));
            waiting_.erase(waiting_.begin());
            ++next_;
        }
    }
    size_t next() const { return next_; }  // the first index not yet written

private:
    size_t next_;
    std::function<void(size_t, T&&)> write_;
    std::map<size_t, T> waiting_;
};

}  // namespace tb
