// Parameter-server snapshots (checkpoint/resume of the shards) and warm start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "dendrite/dist/ps_snapshot.h"
#include "dendrite/dist/ps_worker.h"
#include "dendrite/nn/nn.h"
#include "dendrite/ops/ops.h"
#include "dendrite/optim/sgd.h"
#include "dist_test_env.h"
#include "support/errors.h"

namespace dendrite::dist {
namespace {
namespace fs = std::filesystem;

fs::path scratch_dir(const char* what) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("dendrite-{}-{}", what, ::getpid());
  fs::remove_all(dir);
  return dir;
}

std::vector<float> flat(const nn::Module& net) {
  std::vector<float> out;
  for (const auto& [name, p] : net.named_parameters()) {
    const std::vector<float> v = to_vector<float>(p);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

TEST(PsSnapshot, RoundTripsAndPrunes) {
  const fs::path dir = scratch_dir("ps-snapshot");
  Tensor w = Tensor(TensorBase::empty({3}, DType::f32));
  for (int i = 0; i < 3; ++i) w.data_ptr<float>()[i] = 0.5f * static_cast<float>(i);
  ShardSnapshot s{.step = 7,
                  .version = 12,
                  .params = {{"w[0:3]", w}},
                  .optimizer_state = {{"w[0:3].sum", w}, {"w[0:3].step", scalar_tensor(4, DType::i64)}},
                  .optimizer_scalars = {{"step", 4.0}, {"lr", 0.1}}};
  for (int64_t step : {3, 5, 7}) save_snapshot(snapshot_path(dir, 1, step), s);
  prune_snapshots(dir, 1, {5, 7});
  EXPECT_FALSE(fs::exists(snapshot_path(dir, 1, 3)));
  ASSERT_TRUE(fs::exists(snapshot_path(dir, 1, 5)));
  const ShardSnapshot back = load_snapshot(snapshot_path(dir, 1, 7));
  EXPECT_EQ(back.step, 7);
  EXPECT_EQ(back.version, 12);
  ASSERT_EQ(back.params.size(), 1u);
  EXPECT_EQ(back.params[0].first, "w[0:3]");
  EXPECT_EQ(to_vector<float>(back.params[0].second), to_vector<float>(w));
  ASSERT_EQ(back.optimizer_state.size(), 2u);
  EXPECT_EQ(back.optimizer_state[1].second.dtype(), DType::i64);
  EXPECT_EQ(back.optimizer_scalars, s.optimizer_scalars);
  try {
    load_snapshot(snapshot_path(dir, 2, 7));
    ADD_FAILURE() << "a missing snapshot loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shard-2-step-7.bin is missing"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

// One PS session: the workers train `steps` steps on a fixed batch; rank 0 checkpoints after
// step `checkpoint_at` (when >= 0); `resume_from` >= 0 resumes from that step's snapshots.
// Returns rank 0's replica after each fetch (index k: after k pushes).
struct Session {
  int steps = 8;
  int64_t checkpoint_at = -1;
  int64_t resume_from = -1;
  int warm_start = 0;
  Mode mode = Mode::ps_async;
};

std::vector<std::vector<float>> run_session(const Session& session, const fs::path& dir, int64_t* first_version) {
  std::shared_ptr<Communicator> comm = testing::comm();
  Options options;
  options.mode = session.mode;
  options.warm_start = session.warm_start;
  options.staleness = 1;  // ps-ssp
  manual_seed(9);
  nn::Linear net(4, 4);
  const int workers = comm->size() - 1;
  std::vector<std::vector<float>> seen;
  if (comm->rank() >= workers) {
    run_parameter_server(comm, net, options, default_update_rule(options, 0.1), 0.0, dir);
    return seen;
  }
  Generator gen(200 + static_cast<uint64_t>(comm->rank()));
  const Tensor x = randn({16, 4}, DType::f32, gen);
  const Tensor y = x.argmax(1).detach();
  ParameterServerWorker worker(comm, net, options);
  optim::SGD unused(net.named_parameters(), {.lr = 0.1});
  if (session.resume_from >= 0) worker.resume_at(session.resume_from);
  worker.start(net);
  if (first_version != nullptr) *first_version = worker.version(0);
  for (int step = 0; step < session.steps; ++step) {
    worker.before_forward();
    seen.push_back(flat(net));
    unused.zero_grad();
    cross_entropy(net(x), y).backward();
    worker.after_backward();
    worker.step(unused);
    if (comm->rank() == 0 && step + 1 == session.checkpoint_at) worker.before_checkpoint(session.checkpoint_at);
  }
  worker.finish(session.steps * 16, 1.0);
  return seen;
}

// With one worker everything is deterministic: the resumed shard (values, Adagrad sums and
// version) must continue exactly as the uninterrupted one did.
TEST(ParameterServer, ResumeRestoresShardsExactly) {
  std::shared_ptr<Communicator> comm = testing::comm();
  if (comm->size() == 1) GTEST_SKIP() << "needs a server and a worker";
  const fs::path dir = scratch_dir("ps-resume");  // only the server rank uses it
  const std::vector<std::vector<float>> whole = run_session({.steps = 8, .checkpoint_at = 5}, dir, nullptr);
  int64_t version = -1;
  const std::vector<std::vector<float>> resumed = run_session({.steps = 3, .resume_from = 5}, dir, &version);
  if (comm->rank() == comm->size() - 1) {
    EXPECT_TRUE(fs::exists(snapshot_path(dir, 0, 5)));
    fs::remove_all(dir);
    return;
  }
  const int workers = comm->size() - 1;
  EXPECT_GE(version, 5);
  if (workers > 1) return;  // the others' pushes interleave: only one worker is deterministic
  EXPECT_EQ(version, 5);
  ASSERT_EQ(resumed.size(), 3u);
  for (size_t k = 0; k < resumed.size(); ++k) EXPECT_EQ(resumed[k], whole[5 + k]) << "after " << 5 + k << " pushes";
}

// Worker 0 pushes 4 steps alone; the others' first fetch must see all 4 updates. ps-sync: exactly
// 4 (the warm rounds are worker 0's alone, the next needs every worker); ps-ssp: worker 0's lead
// of 4 pushes is not held against a staleness bound of 1 (it would wait for the others forever).
class WarmStart : public ::testing::TestWithParam<Mode> {};

TEST_P(WarmStart, LetsWorkerZeroGoFirst) {
  std::shared_ptr<Communicator> comm = testing::comm();
  if (comm->size() < 3) GTEST_SKIP() << "needs a server and two workers";
  int64_t version = -1;
  const std::vector<std::vector<float>> seen =
      run_session({.steps = 6, .warm_start = 4, .mode = GetParam()}, {}, &version);
  if (comm->rank() == comm->size() - 1) return;
  EXPECT_EQ(seen.size(), 6u);
  if (comm->rank() == 0) {
    EXPECT_EQ(version, 0);
  } else if (GetParam() == Mode::ps_sync) {
    EXPECT_EQ(version, 4);
  } else {
    EXPECT_GE(version, 4);
  }
}

INSTANTIATE_TEST_SUITE_P(ParameterServer, WarmStart, ::testing::Values(Mode::ps_async, Mode::ps_sync, Mode::ps_ssp),
                         [](const auto& info) { return std::string(info.param == Mode::ps_async  ? "async"
                                                                   : info.param == Mode::ps_sync ? "sync"
                                                                                                 : "ssp"); });

TEST(Options, WarmStartAndStragglerFlags) {
  const char* argv[] = {"prog", "--dist", "ps-async", "--warm-start", "5", "--slow-rank=1", "--slow-factor", "3"};
  const Options o = parse_options(8, argv);
  EXPECT_EQ(o.warm_start, 5);
  EXPECT_EQ(o.slow_rank, 1);
  EXPECT_DOUBLE_EQ(o.slow_factor, 3.0);
  validate(o, 3);
  Options sync = o;
  sync.mode = Mode::ps_sync;
  validate(sync, 3);
  Options allreduce = o;
  allreduce.mode = Mode::allreduce;
  test_support::expect_error([&] { validate(allreduce, 3); }, {"--warm-start applies to the parameter-server modes", "--dist allreduce"});
  Options slow = o;
  slow.slow_factor = 0.5;
  EXPECT_THROW(validate(slow, 3), Error);
}

}  // namespace
}  // namespace dendrite::dist
