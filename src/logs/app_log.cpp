#include "logs/app_log.hpp"

namespace arbor::logs::detail {

/// Points the files at the current config; the caller holds io_.
void app_log::apply(const app_snapshot& c) {
  if (applied_gen_ == c.gen)
    return;
  auto p = log_pump::paths(c.dir, c.app);
  std::string fresh[2] = {p.first, p.second};
  for (int i = 0; i < 2; ++i)
    if (files_[i].path() != fresh[i])
      files_[i] = rotating_file{fresh[i]};
  applied_gen_ = c.gen;
}

write_result app_log::write(const app_snapshot& c, stream kind, const std::string& out,
                            write_observer* obs) {
  if (out.empty())
    return {};
  std::lock_guard<std::mutex> guard{io_};
  apply(c);
  return files_[static_cast<int>(kind)].write(out, rotation{c.max_size, c.max_files}, obs);
}

std::string app_log::truncate(const app_snapshot& c) {
  std::string error;
  std::lock_guard<std::mutex> guard{io_};
  apply(c);
  for (auto& f : files_) {
    std::string e = f.truncate(c.max_files);
    if (!e.empty())
      error = e;
  }
  return error;
}

} // namespace arbor::logs::detail
