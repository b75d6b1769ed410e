#include "dendrite/train/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "dendrite/autograd/autograd.h"
#include "dendrite/ops/elementwise.h"
#include "dendrite/train/atomic_file.h"
#include "dendrite/train/safetensors.h"

namespace dendrite::train {
namespace fs = std::filesystem;
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kTrainerFile = "trainer.json";
constexpr const char* kFormat = "dendrite-checkpoint-1";

fs::path with_suffix(const fs::path& dir, const char* suffix) {
  fs::path out = dir;
  out += suffix;
  return out;
}

// Parameters first, then buffers: the order of the file and of the mismatch messages.
struct ModelEntry {
  std::string name;
  Tensor tensor;
  const char* kind;  // "parameter" or "buffer"
};

std::vector<ModelEntry> model_entries(const nn::Module& model) {
  std::vector<ModelEntry> out;
  for (auto& [name, t] : model.named_parameters()) out.push_back({name, t, "parameter"});
  for (auto& [name, t] : model.named_buffers()) out.push_back({name, t, "buffer"});
  return out;
}

std::string list_names(const nn::NamedTensors& tensors) {
  constexpr size_t kShown = 6;
  std::string out;
  for (size_t i = 0; i < tensors.size() && i < kShown; ++i) out += (i ? ", " : "") + tensors[i].first;
  if (tensors.size() > kShown) out += fmt::format(", ... ({} in all)", tensors.size());
  return out.empty() ? "none" : out;
}

// Pairs every model tensor with its tensor in the file, or throws naming the first that differs.
std::vector<std::pair<Tensor, Tensor>> match_weights(const Safetensors& file, const nn::Module& model,
                                                     const std::string& label) {
  std::vector<std::pair<Tensor, Tensor>> pairs;
  std::set<std::string> used;
  for (const ModelEntry& entry : model_entries(model)) {
    const Tensor* stored = file.find(entry.name);
    DENDRITE_CHECK(stored != nullptr, "checkpoint {}: {} '{}' of the model is not in the file (the file has {})", label,
                   entry.kind, entry.name, list_names(file.tensors));
    DENDRITE_CHECK(stored->shape() == entry.tensor.shape(),
                   "checkpoint {}: {} '{}' has shape {} in the file, {} in the model", label, entry.kind, entry.name,
                   to_string(stored->shape()), to_string(entry.tensor.shape()));
    DENDRITE_CHECK(is_floating(stored->dtype()) == is_floating(entry.tensor.dtype()),
                   "checkpoint {}: {} '{}' is {} in the file, {} in the model", label, entry.kind, entry.name,
                   name(stored->dtype()), name(entry.tensor.dtype()));
    used.insert(entry.name);
    pairs.emplace_back(entry.tensor, *stored);
  }
  for (const auto& [name, t] : file.tensors) {
    DENDRITE_CHECK(used.count(name) == 1, "checkpoint {}: the file has tensor '{}' ({}) that the model does not", label,
                   name, describe(t));
  }
  return pairs;
}

void copy_weights(const std::vector<std::pair<Tensor, Tensor>>& pairs) {
  autograd::NoGradGuard no_grad;
  for (const auto& [dst, src] : pairs) copy_(dst, src);  // converts dtype when the model was to()'d
}

ordered_json state_to_json(const TrainerState& s) {
  ordered_json generators = ordered_json::object();
  for (const auto& [name, state] : s.generators) generators[name] = state;
  ordered_json j = {{"format", kFormat},
                    {"step", s.step},
                    {"epoch", s.epoch},
                    {"batch", s.batch},
                    {"generators", std::move(generators)},
                    {"best_metric", nullptr},
                    {"best_epoch", s.best_epoch},
                    {"epoch_loss_sum", s.epoch_loss_sum},
                    {"epoch_correct", s.epoch_correct},
                    {"epoch_samples", s.epoch_samples},
                    {"train_seconds", s.train_seconds}};
  if (std::isfinite(s.best_metric)) j["best_metric"] = s.best_metric;  // JSON has no -inf
  return j;
}

TrainerState state_from_json(const ordered_json& j, const std::string& label) {
  DENDRITE_CHECK(j.is_object(), "{}: expected a JSON object, got {}", label, j.type_name());
  auto integer = [&](const char* key) {
    DENDRITE_CHECK(j.contains(key) && j[key].is_number_integer(), "{}: key '{}' is missing or not an integer", label,
                   key);
    return j[key].get<int64_t>();
  };
  auto number = [&](const char* key) {
    DENDRITE_CHECK(j.contains(key) && j[key].is_number(), "{}: key '{}' is missing or not a number", label, key);
    return j[key].get<double>();
  };
  DENDRITE_CHECK(j.value("format", "") == kFormat, "{}: format is {}, expected \"{}\"", label,
                 j.contains("format") ? j["format"].dump() : "missing", kFormat);
  TrainerState s;
  s.step = integer("step");
  s.epoch = integer("epoch");
  s.batch = integer("batch");
  s.best_epoch = integer("best_epoch");
  s.epoch_correct = integer("epoch_correct");
  s.epoch_samples = integer("epoch_samples");
  s.epoch_loss_sum = number("epoch_loss_sum");
  s.train_seconds = number("train_seconds");
  DENDRITE_CHECK(s.step >= 0 && s.epoch >= 0 && s.batch >= 0, "{}: step, epoch and batch must be non-negative", label);
  if (j.contains("best_metric") && !j["best_metric"].is_null()) s.best_metric = number("best_metric");
  DENDRITE_CHECK(j.contains("generators") && j["generators"].is_object(),
                 "{}: key 'generators' is missing or not an object", label);
  for (const auto& [name, value] : j["generators"].items()) {
    DENDRITE_CHECK(value.is_number_unsigned(), "{}: generator '{}' must be an unsigned integer, got {}", label, name,
                   value.dump());
    s.generators.emplace_back(name, value.get<uint64_t>());
  }
  return s;
}

// Optimiser scalars travel as strings in __metadata__; fmt's shortest round-trip form and strtod
// give back the same double bits.
std::vector<std::pair<std::string, double>> parse_scalars(const Safetensors& file, const std::string& label,
                                                          const optim::Optimizer& optimizer) {
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [key, text] : file.metadata) {
    if (key == "kind") {
      DENDRITE_CHECK(text == optimizer.kind(), "checkpoint {}: the state was saved by {}, the optimiser is {}", label,
                     text, optimizer.kind());
      continue;
    }
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    DENDRITE_CHECK(!text.empty() && end == text.c_str() + text.size(),
                   "checkpoint {}: __metadata__ '{}' is \"{}\", not a number", label, key, text);
    scalars.emplace_back(key, value);
  }
  return scalars;
}

// Replaces `dir` with `staged` in one step where the kernel can swap two directories.
void swap_into_place(const fs::path& staged, const fs::path& dir) {
  if (!fs::exists(dir)) {
    if (std::rename(staged.c_str(), dir.c_str()) != 0)
      fail("{}: rename to {} failed: {}", staged.string(), dir.string(), std::strerror(errno));
    return;
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(staged);  // now the previous checkpoint
    return;
  }
  // File systems without RENAME_EXCHANGE: two renames; load_checkpoint finds "<dir>.old" if a crash
  // falls between them.
  DENDRITE_CHECK(errno == EINVAL || errno == ENOSYS, "{}: swap with {} failed: {}", staged.string(), dir.string(),
                 std::strerror(errno));
  fs::path old = with_suffix(dir, ".old");
  fs::remove_all(old);
  fs::rename(dir, old);
  fs::rename(staged, dir);
  fs::remove_all(old);
}

}  // namespace

void save_checkpoint(const fs::path& dir, const nn::Module& model, const optim::Optimizer* optimizer,
                     const TrainerState& state) {
  const fs::path staged = with_suffix(dir, ".tmp");
  try {
    fs::remove_all(staged);
    fs::create_directories(staged);
    nn::NamedTensors weights;
    for (const ModelEntry& e : model_entries(model)) weights.emplace_back(e.name, e.tensor);
    save_safetensors(staged / kModelFile, weights, {{"format", "pt"}});
    if (optimizer != nullptr) {
      Metadata metadata{{"kind", optimizer->kind()}};
      for (const auto& [key, value] : optimizer->state_scalars()) metadata.emplace_back(key, fmt::format("{}", value));
      save_safetensors(staged / kOptimizerFile, optimizer->state(), metadata);
    }
    write_file_atomically(staged / kTrainerFile, state_to_json(state).dump(2) + "\n");
    sync_directory(staged);
    swap_into_place(staged, dir);
    sync_directory(dir.parent_path());
  } catch (const fs::filesystem_error& e) {
    fail("checkpoint {}: {}", dir.string(), e.what());
  }
}

TrainerState read_trainer_state(const fs::path& dir) {
  const fs::path file = dir / kTrainerFile;
  std::ifstream in(file);
  DENDRITE_CHECK(in.is_open(), "checkpoint {}: cannot open: {}", file.string(), std::strerror(errno));
  ordered_json j;
  try {
    j = ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint {}: not valid JSON: {}", file.string(), e.what());
  }
  return state_from_json(j, "checkpoint " + file.string());
}

void load_weights(const fs::path& file, nn::Module& model) {
  Safetensors weights = load_safetensors(file);
  copy_weights(match_weights(weights, model, file.string()));
}

TrainerState load_checkpoint(const fs::path& requested, nn::Module& model, optim::Optimizer* optimizer) {
  fs::path dir = requested;
  if (!fs::exists(dir) && fs::exists(with_suffix(dir, ".old"))) dir = with_suffix(dir, ".old");
  DENDRITE_CHECK(fs::is_directory(dir), "checkpoint {}: no such directory", requested.string());

  TrainerState state = read_trainer_state(dir);
  const std::string model_label = (dir / kModelFile).string();
  auto pairs = match_weights(load_safetensors(dir / kModelFile), model, model_label);

  if (optimizer != nullptr) {
    const fs::path file = dir / kOptimizerFile;
    Safetensors saved = load_safetensors(file);
    auto scalars = parse_scalars(saved, file.string(), *optimizer);
    try {
      optimizer->load_state(saved.tensors);
      optimizer->load_state_scalars(scalars);
    } catch (const Error& e) {
      fail("checkpoint {}: {}", file.string(), e.what());
    }
  }
  copy_weights(pairs);
  return state;
}

}  // namespace dendrite::train
