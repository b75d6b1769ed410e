#include "dendrite/dist/ps_snapshot.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "dendrite/core/error.h"

namespace dendrite::dist {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[8] = {'D', 'D', 'P', 'S', 'S', 'N', 'P', '1'};

class Writer {
 public:
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const char*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void i64(int64_t v) { bytes(&v, sizeof v); }
  void f64(double v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    i64(static_cast<int64_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void tensors(const nn::NamedTensors& ts) {
    i64(static_cast<int64_t>(ts.size()));
    for (const auto& [name, t] : ts) {
      const Tensor c = t.contiguous();
      str(name);
      i64(static_cast<int64_t>(c.dtype()));
      i64(static_cast<int64_t>(c.shape().size()));
      for (int64_t d : c.shape()) i64(d);
      bytes(c.raw_data(), static_cast<size_t>(c.numel()) * element_size(c.dtype()));
    }
  }
  const std::vector<char>& data() const { return out_; }

 private:
  std::vector<char> out_;
};

class Reader {
 public:
  Reader(std::vector<char> in, std::string file) : in_(std::move(in)), file_(std::move(file)) {}
  void bytes(void* p, size_t n) {
    DENDRITE_CHECK(n <= in_.size() - pos_, "parameter-server snapshot {}: truncated at byte {}", file_, pos_);
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  int64_t i64() {
    int64_t v = 0;
    bytes(&v, sizeof v);
    return v;
  }
  double f64() {
    double v = 0;
    bytes(&v, sizeof v);
    return v;
  }
  int64_t count() {
    const int64_t n = i64();
    DENDRITE_CHECK(n >= 0 && static_cast<size_t>(n) <= in_.size() - pos_,
                   "parameter-server snapshot {}: a bad count {} at byte {}", file_, n, pos_);
    return n;
  }
  std::string str() {
    std::string s(static_cast<size_t>(count()), '\0');
    bytes(s.data(), s.size());
    return s;
  }
  nn::NamedTensors tensors() {
    nn::NamedTensors ts;
    for (int64_t i = 0, n = count(); i < n; ++i) {
      std::string name = str();
      const auto dtype = static_cast<DType>(i64());
      Shape shape(static_cast<size_t>(count()));
      for (int64_t& d : shape) d = i64();
      Tensor t = Tensor(TensorBase::empty(shape, dtype));
      bytes(t.raw_data(), static_cast<size_t>(t.numel()) * element_size(dtype));
      ts.emplace_back(std::move(name), t);
    }
    return ts;
  }
  size_t pos() const { return pos_; }

 private:
  std::vector<char> in_;
  std::string file_;
  size_t pos_ = 0;
};

}  // namespace

fs::path snapshot_path(const fs::path& dir, int shard, int64_t step) {
  return dir / fmt::format("shard-{}-step-{}.bin", shard, step);
}

void save_snapshot(const fs::path& file, const ShardSnapshot& s) {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.i64(s.step);
  w.i64(s.version);
  w.tensors(s.params);
  w.tensors(s.optimizer_state);
  w.i64(static_cast<int64_t>(s.optimizer_scalars.size()));
  for (const auto& [name, v] : s.optimizer_scalars) {
    w.str(name);
    w.f64(v);
  }
  fs::create_directories(file.parent_path());
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(w.data().data(), static_cast<std::streamsize>(w.data().size()));
    out.flush();
    DENDRITE_CHECK(out.good(), "parameter-server snapshot: cannot write {}", tmp.string());
  }
  fs::rename(tmp, file);
}

ShardSnapshot load_snapshot(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  DENDRITE_CHECK(in.good(), "parameter-server snapshot {} is missing: the run's shards did not save this step",
                 file.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader r(std::move(bytes), file.string());
  char magic[sizeof kMagic];
  r.bytes(magic, sizeof magic);
  DENDRITE_CHECK(std::equal(magic, magic + sizeof magic, kMagic), "{} is not a parameter-server snapshot",
                 file.string());
  ShardSnapshot s;
  s.step = r.i64();
  s.version = r.i64();
  s.params = r.tensors();
  s.optimizer_state = r.tensors();
  for (int64_t i = 0, n = r.count(); i < n; ++i) {
    std::string name = r.str();
    s.optimizer_scalars.emplace_back(std::move(name), r.f64());
  }
  return s;
}

void prune_snapshots(const fs::path& dir, int shard, const std::vector<int64_t>& keep) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  const std::string prefix = fmt::format("shard-{}-step-", shard);
  std::vector<fs::path> stale;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const bool kept = std::any_of(keep.begin(), keep.end(),
                                  [&](int64_t step) { return e.path() == snapshot_path(dir, shard, step); });
    if (!kept) stale.push_back(e.path());
  }
  for (const fs::path& p : stale) fs::remove(p, ec);  // best effort: a leftover file is harmless
}

}  // namespace dendrite::dist
