#pragma once

// Small file helpers shared by the journal and the overlay file: whole reads,
// full writes, and an atomic replace (tmp + rename, optionally synced).
// Errors come back as text such as "open /x: No such file or directory".

#include <string>
#include <string_view>

namespace arbor::os {

/// "open /x: No such file or directory".
std::string errno_text(const char* what, const std::string& path, int e);

/// write() until all of `s` is written; false with errno set (EIO for a
/// write that wrote nothing).
bool write_all(int fd, std::string_view s);

/// The directory part of `path` ("." if none).
std::string dir_of(const std::string& path);

/// fsync()s the directory holding `path` (after a rename into it); errors
/// only weaken durability and are ignored.
void sync_dir_of(const std::string& path);

/// Reads `path` whole into `out`. False with `err`; if `missing` is given, a
/// file that does not exist sets it instead of `err`.
bool read_file(const std::string& path, std::string& out, std::string& err, bool* missing);

/// Replaces `path` with `text`: a new file (mode 0600, O_EXCL) beside it,
/// written, fdatasync()ed if `sync`, renamed over `path` (a symlink there is
/// replaced, never followed), then the directory synced if `sync`.
bool write_file_atomic(const std::string& path, std::string_view text, std::string& err,
                       bool sync);

} // namespace arbor::os
