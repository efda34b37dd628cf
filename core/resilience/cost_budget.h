// CostBudget: `--max-cost`, the dollars a run may spend (docs/cost.md). Before a judge call is
// sent, its worst case (estimated input tokens + the token cap, at the provider's price) is
// reserved; when the reply comes, the reservation is settled at what the reply's usage cost.
// A reservation that would take spend + reservations past the limit is refused, and the run
// stops sending. So total spend never passes the limit by more than what calls in flight cost
// beyond their worst case (nothing, unless a provider bills more than its reported cap).
//
// Amounts are integers in nano-dollars, so that processes sharing a budget through Redis add
// them exactly and atomically. LocalCostBudget is one process's budget; RedisCostBudget
// (redis_cost_budget.h) is shared by every process naming the same budget key.
// Loop thread only.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>

namespace llmeval::resilience {

using Nanodollars = std::int64_t;

inline Nanodollars to_nanodollars(double dollars) { return static_cast<Nanodollars>(std::llround(dollars * 1e9)); }
inline double to_dollars(Nanodollars amount) { return static_cast<double>(amount) / 1e9; }

class CostBudget {
 public:
  virtual ~CostBudget() = default;
  // done(true): `amount` is reserved, send the call; done(false): it would pass the limit.
  // done may run inside reserve().
  virtual void reserve(Nanodollars amount, std::function<void(bool)> done) = 0;
  // A call reserved with `reserved` is over and cost `actual` (0 when nothing was sent or the
  // call failed without usage).
  virtual void settle(Nanodollars reserved, Nanodollars actual) = 0;
  virtual Nanodollars limit() const = 0;
  // Spent under this budget as last known: for a shared budget, by every process using it.
  virtual Nanodollars spent() const = 0;
  // What this process's settled calls cost.
  virtual Nanodollars spent_here() const = 0;
};

class LocalCostBudget final : public CostBudget {
 public:
  explicit LocalCostBudget(Nanodollars limit) : limit_(limit) {}

  void reserve(Nanodollars amount, std::function<void(bool)> done) override {
    if (spent_ + reserved_ + amount > limit_) {
      done(false);
      return;
    }
    reserved_ += amount;
    done(true);
  }
  void settle(Nanodollars reserved, Nanodollars actual) override {
    reserved_ -= reserved;
    spent_ += actual;
  }
  Nanodollars limit() const override { return limit_; }
  Nanodollars spent() const override { return spent_; }
  Nanodollars spent_here() const override { return spent_; }

 private:
  Nanodollars limit_;
  Nanodollars spent_ = 0;
  Nanodollars reserved_ = 0;
};

}  // namespace llmeval::resilience
