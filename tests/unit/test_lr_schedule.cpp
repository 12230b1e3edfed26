// The schedules against values of HF transformers' formulas worked by hand (warmup 10, total 110).
#include <gtest/gtest.h>

#include <cmath>

#include "train/lr_schedule.h"

using namespace tb;

TEST(LrSchedule, MatchesTransformersFormulas) {
    LrSchedule s{"linear", 10, 110};
    EXPECT_DOUBLE_EQ(s.factor(0), 0.0);
    EXPECT_DOUBLE_EQ(s.factor(5), 0.5);
    EXPECT_DOUBLE_EQ(s.factor(10), 1.0);
    EXPECT_DOUBLE_EQ(s.factor(60), 0.5);
    EXPECT_DOUBLE_EQ(s.factor(110), 0.0);
    s.type = "cosine";
    EXPECT_DOUBLE_EQ(s.factor(5), 0.5);
    EXPECT_NEAR(s.factor(60), 0.5, 1e-12);   // half-way: cos(pi/2)
    EXPECT_NEAR(s.factor(35), 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);
    EXPECT_NEAR(s.factor(110), 0.0, 1e-12);
    s.type = "constant_with_warmup";
    EXPECT_DOUBLE_EQ(s.factor(5), 0.5);
    EXPECT_DOUBLE_EQ(s.factor(100), 1.0);
    s.type = "constant";
    EXPECT_DOUBLE_EQ(s.factor(0), 1.0);
    s.type = "cosine_with_restarts";
    s.num_cycles = 2;
    EXPECT_NEAR(s.factor(35), 0.5, 1e-12);   // a quarter through: half-way down the first cycle
    EXPECT_NEAR(s.factor(59), 0.5 * (1 + std::cos(M_PI * 0.98)), 1e-12);  // the first cycle's end
    EXPECT_NEAR(s.factor(60), 1.0, 1e-12);   // restart
    EXPECT_EQ(warmup_steps_for(0, 0.1, 95), 10);  // ceil(9.5)
    EXPECT_EQ(warmup_steps_for(7, 0.1, 95), 7);   // warmup_steps wins
}
