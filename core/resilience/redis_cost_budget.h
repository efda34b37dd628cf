// RedisCostBudget: a CostBudget shared by every process that names the same budget key, e.g.
// the pods of one Indexed Job. The hash `<prefix>budget:<key>` holds `committed` (spent plus
// reservations out) and `spent`, in nano-dollars; one Lua script reserves only while committed
// stays within the limit, another settles. The key expires 7 days after its last use.
//
// A process killed with calls in flight leaves their reservations committed: the budget errs
// towards spending less, never more. When Redis fails or is slow, the budget goes on with what
// it last knew (committed there, plus what this process reserved since) and warns once: a run
// does not stop for Redis, and cannot pass the limit by more than the other processes'
// reservations made meanwhile.
// `client` must outlive the budget. Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "core/redis/redis_client.h"
#include "core/resilience/cost_budget.h"

namespace llmeval::resilience {

class RedisCostBudget final : public CostBudget {
 public:
  RedisCostBudget(redis::RedisClient& client, std::string key, Nanodollars limit);
  ~RedisCostBudget() override;

  void reserve(Nanodollars amount, std::function<void(bool)> done) override;
  void settle(Nanodollars reserved, Nanodollars actual) override;
  Nanodollars limit() const override { return limit_; }
  Nanodollars spent() const override;
  Nanodollars spent_here() const override { return spent_here_; }

 private:
  struct Known;
  void degraded(const Error& error);

  redis::RedisClient& client_;
  std::string key_;
  Nanodollars limit_;
  Nanodollars spent_here_ = 0;
  std::shared_ptr<Known> known_;  // shared with callbacks that may outlive the budget
};

}  // namespace llmeval::resilience
