// Crash-safe file replacement: the bytes go to "<path>.tmp", are fsync'ed, and the temporary is
// renamed over `path`. rename(2) is atomic within a file system, so a reader (or a run resumed
// after Ctrl-C or a power cut) sees either the old file or the new one, never a torn mix.
#pragma once

#include <filesystem>
#include <string_view>

namespace dendrite::train {

// Replaces `path` with `bytes`; throws dendrite::Error naming the path and the failing system call.
// On failure the temporary is removed and `path` is left as it was.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Makes a rename inside `directory` durable (the directory entry itself is flushed).
void sync_directory(const std::filesystem::path& directory);

}  // namespace dendrite::train
