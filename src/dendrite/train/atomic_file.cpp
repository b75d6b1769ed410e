#include "dendrite/train/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "dendrite/core/error.h"

namespace dendrite::train {
namespace {

[[noreturn]] void fail_errno(std::string_view what, const std::filesystem::path& path, int error) {
  fail("{}: {} failed: {}", path.string(), what, std::strerror(error));
}

// Closes the descriptor on every path out, including exceptions.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("write", path, errno);
    }
    written += static_cast<size_t>(n);
  }
}

}  // namespace

void sync_directory(const std::filesystem::path& directory) {
  std::filesystem::path dir = directory.empty() ? std::filesystem::path(".") : directory;
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) fail_errno("open", dir, errno);
  // Some file systems refuse fsync on directories (EINVAL); the rename is still atomic there.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) fail_errno("fsync", dir, errno);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  try {
    FileDescriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) fail_errno("open", tmp, errno);
    write_all(fd.get(), bytes, tmp);
    if (::fsync(fd.get()) != 0) fail_errno("fsync", tmp, errno);
    if (::close(fd.release()) != 0) fail_errno("close", tmp, errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail_errno("rename to " + path.string(), tmp, errno);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  sync_directory(path.parent_path());
}

}  // namespace dendrite::train
