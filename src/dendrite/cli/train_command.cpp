// `dendrite train`: recipe -> data, model, optimiser, schedule, loaders -> train::Trainer.
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "dendrite/cli/builders.h"
#include "dendrite/cli/commands.h"
#include "dendrite/cli/models.h"
#include "dendrite/cli/recipe_files.h"
#include "dendrite/cli/run_dir.h"
#include "dendrite/core/error.h"
#include "dendrite/core/random.h"
#include "dendrite/core/threading.h"
#include "dendrite/data/dataloader.h"
#include "dendrite/data/sharded_dataset.h"
#include "dendrite/dist/dist.h"
#include "dendrite/train/atomic_file.h"
#include "dendrite/train/trainer.h"

namespace dendrite::cli {
namespace fs = std::filesystem;
namespace {

struct Resolved {
  Recipe recipe;
  std::string source;  // names the recipe in messages
  fs::path run_dir;
  bool resume = false;
};


// A resumed run keeps its config.toml: only the length of the run and the thread count may change,
// since anything else would make the continuation differ from the run it continues.
Resolved resolve_resume(const TrainArgs& a) {
  Resolved r{read_run_recipe(a.resume), (fs::path(a.resume) / kConfigFile).string(), a.resume, true};
  if (!a.recipe.empty()) {
    const Recipe given = parse_recipe_file(resolve_recipe(a.recipe));
    DENDRITE_CHECK(given.name == r.recipe.name, "--resume {}: the run is of recipe '{}', not '{}'", a.resume,
                   r.recipe.name, given.name);
  }
  const bool fixed =
      a.batch || a.lr || a.seed || a.out || a.precision || a.limit_train || a.limit_test || !a.sets.empty();
  DENDRITE_CHECK(!fixed, "--resume {}: only --epochs and --threads may change when resuming ({} fixes the rest)",
                 a.resume, r.source);
  if (a.epochs) r.recipe.train.epochs = *a.epochs;
  if (a.threads) r.recipe.train.threads = *a.threads;
  return r;
}

Resolved resolve(const TrainArgs& a) {
  if (!a.resume.empty()) return resolve_resume(a);
  DENDRITE_CHECK(!a.recipe.empty(), "train: give a RECIPE (`dendrite recipes` lists them) or --resume RUN_DIR");
  const fs::path file = resolve_recipe(a.recipe);
  Resolved r{parse_recipe_file(file), file.string(), {}, false};
  apply_train_flags(r.recipe, a);
  validate_recipe(r.recipe, r.source);
  r.run_dir = r.recipe.train.out.empty() ? default_run_dir(r.recipe.name) : fs::path(r.recipe.train.out);
  return r;
}

// The job's communicator for --dist, or null for a single process (which mpirun must not start
// several times over: they would all write the same run directory).
std::shared_ptr<dist::Communicator> start_dist(const dist::Options& d) {
  if (d.mode == dist::Mode::none) {
    const char* ranks = std::getenv("OMPI_COMM_WORLD_SIZE");
    DENDRITE_CHECK(ranks == nullptr || std::string(ranks) == "1",
                   "train: started by mpirun with {} ranks but without --dist; add --dist allreduce (or ps-async, "
                   "ps-sync, ps-ssp)",
                   ranks != nullptr ? ranks : "");
    return nullptr;
  }
  std::shared_ptr<dist::Communicator> comm = dist::init(d);
  dist::validate(d, comm->size());
  return comm;
}

// A loader whose batches are this rank's shard of `shards` x `local_batch` examples (sharded_dataset.h).
data::DataLoader sharded_loader(const data::TensorDataset& train, const Recipe& recipe, int shard, int shards,
                                int64_t global_batch) {
  const int64_t last = train.size() % global_batch;
  auto dataset = std::make_shared<data::ShardedDataset>(std::make_shared<data::TensorDataset>(train), shard, shards);
  return data::DataLoader(std::shared_ptr<const data::Dataset>(dataset),
                          {.batch = global_batch,
                           .shuffle = true,
                           .drop_last = last > 0 && last < shards,  // a last batch too small to share
                           .seed = static_cast<uint64_t>(recipe.train.seed),
                           .transform = train_transform(recipe)});
}

int train_local(const Resolved& r, const TrainArgs& args, std::ostream& out, bool terminal,
                const std::shared_ptr<dist::Communicator>& comm);

}  // namespace

int train_command(const TrainArgs& args, std::ostream& out, bool terminal) {
  const Resolved r = resolve(args);
  validate_recipe(r.recipe, r.source);
  if (args.print_recipe) {
    out << to_toml(r.recipe);
    return 0;
  }
  std::shared_ptr<dist::Communicator> comm = start_dist(args.dist);
  if (comm == nullptr || comm->size() == 1) return train_local(r, args, out, terminal, comm);
  try {
    return train_local(r, args, out, terminal, comm);
  } catch (const std::exception& e) {
    // The other ranks may be waiting in a collective that will never complete: end the job now.
    out.flush();
    std::cerr << fmt::format("dendrite: error: rank {}: {}\n", comm->rank(), e.what());
    comm->abort(1);
    throw;
  }
}

namespace {

int train_local(const Resolved& r, const TrainArgs& args, std::ostream& out, bool terminal,
                const std::shared_ptr<dist::Communicator>& comm) {
  const Recipe& recipe = r.recipe;
  const dist::Options& d = args.dist;
  const int rank = comm ? comm->rank() : 0, ranks = comm ? comm->size() : 1;
  const bool ps = comm && dist::is_parameter_server(d.mode);
  const int workers = ps ? ranks - d.servers : ranks;
  if (recipe.train.threads > 0) set_num_threads(static_cast<int>(recipe.train.threads));
  const kernels::ScopedMathPrecision precision(math_precision_of(recipe.train));

  if (ps && rank >= workers) {  // a parameter-server shard: no data, no training loop
    manual_seed(static_cast<uint64_t>(recipe.train.seed));
    std::shared_ptr<nn::Sequential> model = build_model(recipe.model);
    const double lr = d.ps_lr.value_or(recipe.optim.lr);
    dist::run_parameter_server(comm, *model, d, dist::default_update_rule(d, lr), recipe.optim.lr, r.run_dir / "ps");
    return 0;
  }

  RecipeData data = load_data(recipe);
  manual_seed(static_cast<uint64_t>(recipe.train.seed));
  std::shared_ptr<nn::Sequential> model = build_model(recipe.model);
  std::unique_ptr<optim::Optimizer> optimizer = build_optimizer(recipe.optim, model->named_parameters());
  std::unique_ptr<dist::Strategy> strategy;
  if (comm && d.mode == dist::Mode::allreduce) {
    DENDRITE_CHECK(recipe.train.batch % ranks == 0, "--dist allreduce: the batch {} must divide among {} ranks",
                   recipe.train.batch, ranks);
    strategy = std::make_unique<dist::DataParallel>(
        comm, *model,
        dist::ReducerOptions{.bucket_bytes = static_cast<int64_t>(d.bucket_mb * (1 << 20)),
                             .deterministic = d.deterministic},
        dist::TestFaults(rank, d));
  } else if (ps) {
    strategy = std::make_unique<dist::ParameterServerWorker>(comm, *model, d);
  }
  const bool writer = rank == 0;
  // allreduce: the recipe's batch is the global one, split among the ranks; parameter server:
  // every worker trains on batches of the recipe's size.
  data::DataLoader train_loader =
      !comm ? data::DataLoader(data.train, {.batch = recipe.train.batch,
                                            .shuffle = true,
                                            .seed = static_cast<uint64_t>(recipe.train.seed),
                                            .transform = train_transform(recipe)})
            : sharded_loader(data.train, recipe, rank, workers, ps ? recipe.train.batch * workers : recipe.train.batch);
  data::DataLoader test_loader(data.test, {.batch = recipe.train.eval_batch, .transform = eval_transform(recipe)});
  std::unique_ptr<optim::LRScheduler> schedule =
      build_schedule(recipe.schedule, recipe.optim.lr, recipe.train.epochs, train_loader.num_batches());

  train::Trainer trainer(*model, *optimizer, train_loader, writer ? &test_loader : nullptr,
                         {.epochs = recipe.train.epochs,
                          .out_dir = r.run_dir,
                          .log_every = recipe.train.log_every,
                          .seed = static_cast<uint64_t>(recipe.train.seed),
                          .threads = static_cast<int>(recipe.train.threads),
                          .checkpoint_every = recipe.train.checkpoint_every,
                          .clip_grad_norm = recipe.optim.clip_grad_norm,
                          .label_smoothing = recipe.train.label_smoothing,
                          .scheduler = schedule.get(),
                          .config = to_toml(recipe),
                          .config_file = kConfigFile,
                          .name = recipe.name,
                          .progress = writer ? &out : nullptr,
                          .progress_terminal = terminal,
                          .handle_sigint = comm == nullptr,
                          .target_accuracy = recipe.train.target_accuracy,
                          .eval_every_steps = recipe.train.eval_every_steps,
                          .strategy = strategy.get()});

  if (comm && writer)
    out << fmt::format("--dist {}: {} ranks, {} of them training; rank 0 writes the run\n", dist::name(d.mode), ranks,
                       workers);
  if (writer)
    out << fmt::format("{} {}: {} parameters, {} training and {} test examples, {} threads -> {}\n",
                       r.resume ? "resuming" : "training", recipe.name, model->parameter_count(), data.train.size(),
                       data.test.size(), num_threads(), r.run_dir.string());
  out.flush();
  train::RunSummary summary;
  if (r.resume) {
    // The run's length or threads may have changed: its config says what it now is, also when
    // this session is interrupted in turn.
    if (writer) train::write_file_atomically(r.run_dir / kConfigFile, to_toml(recipe));
    summary = trainer.resume(r.run_dir);
  } else {
    summary = trainer.fit();
  }

  if (!writer) return summary.completed ? 0 : 130;
  if (!summary.completed) {
    out << fmt::format("stopped after {} steps; continue with: dendrite train --resume {}\n", summary.steps,
                       r.run_dir.string());
    return 130;  // the shell's status for a run ended by Ctrl-C
  }
  if (summary.test)
    out << fmt::format("test accuracy {:.4f} (best {:.4f} at epoch {}), test loss {:.4f}\n", summary.test->accuracy,
                       summary.best_test_accuracy, summary.best_epoch, summary.test->loss);
  if (recipe.train.target_accuracy > 0)
    out << (summary.target ? fmt::format("test accuracy {:.4f} reached after {:.1f} s, step {}, {} samples\n",
                                         recipe.train.target_accuracy, summary.target->seconds, summary.target->step,
                                         summary.target->samples)
                           : fmt::format("test accuracy {:.4f} not reached\n", recipe.train.target_accuracy));
  out << fmt::format("{} epochs, {} steps in {:.1f} s ({:.0f} training samples/s); run saved in {}\n", summary.epochs,
                     summary.steps, summary.wall_seconds, summary.train_samples_per_sec, r.run_dir.string());
  return 0;
}

}  // namespace

void apply_train_flags(Recipe& r, const TrainArgs& a) {
  for (const std::string& assignment : a.sets) set_recipe_key(r, assignment);
  if (a.epochs) r.train.epochs = *a.epochs;
  if (a.batch) r.train.batch = *a.batch;
  if (a.lr) r.optim.lr = *a.lr;
  if (a.threads) r.train.threads = *a.threads;
  if (a.seed) r.train.seed = *a.seed;
  if (a.precision) r.train.precision = *a.precision;
  if (a.out) r.train.out = *a.out;
  if (a.limit_train) r.data.limit_train = *a.limit_train;
  if (a.limit_test) r.data.limit_test = *a.limit_test;
}

}  // namespace dendrite::cli
