#include "core/judge/bounded_regex.h"

#include <algorithm>
#include <iterator>

namespace llmeval::judge {
namespace {

struct BudgetExhausted {};

// A char iterator that charges every move and read to a shared budget and throws when it is
// spent. std::regex's executor is exception-neutral, so the throw unwinds the backtracking
// cleanly; this is the only way to stop a std::regex search from the outside.
class CountingIterator {
 public:
  using iterator_category = std::bidirectional_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator() = default;
  CountingIterator(const char* at, std::int64_t* budget) : at_(at), budget_(budget) {}

  reference operator*() const {
    charge();
    return *at_;
  }
  CountingIterator& operator++() {
    charge();
    ++at_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  CountingIterator& operator--() {
    charge();
    --at_;
    return *this;
  }
  CountingIterator operator--(int) {
    CountingIterator before = *this;
    --*this;
    return before;
  }
  friend bool operator==(const CountingIterator& a, const CountingIterator& b) {
    return a.at_ == b.at_;
  }

 private:
  void charge() const {
    if (--*budget_ < 0) throw BudgetExhausted{};
  }

  const char* at_ = nullptr;
  std::int64_t* budget_ = nullptr;
};

RegexSearch search_here(const std::regex& regex, std::string_view text, std::int64_t steps) {
  try {
    const CountingIterator begin(text.data(), &steps);
    const CountingIterator end(text.data() + text.size(), &steps);
    return std::regex_search(begin, end, regex) ? RegexSearch::kMatch : RegexSearch::kNoMatch;
  } catch (...) {
    // BudgetExhausted, std::regex_error (complexity, stack), std::bad_alloc: all mean this
    // pattern cannot be decided on this text within bounds.
    return RegexSearch::kTooComplex;
  }
}

}  // namespace

RegexSearch bounded_regex_search(const std::regex& regex, std::string_view text,
                                 const RegexLimits& limits) {
  if (text.size() > limits.max_bytes) return RegexSearch::kTooLong;
  const std::int64_t steps =
      limits.max_steps + limits.steps_per_byte * static_cast<std::int64_t>(text.size());
  return search_here(regex, text, steps);
}

}  // namespace llmeval::judge
