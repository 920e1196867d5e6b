#pragma once

// Internal to the journal (journal.cpp, journal_log.cpp, journal_store.cpp):
// the JSON shape of one instance record, strict field readers that say what
// is wrong, and the file helpers (src/os/file_io.hpp) it uses.

#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "journal/journal.hpp"
#include "os/file_io.hpp"

namespace arbor::journal::detail {

using json = nlohmann::json;

/// `v` as T; integers must be integers that fit (nlohmann would wrap -1 into
/// a uint32_t). Throws std::runtime_error with a short reason.
template <class T>
T convert(const json& v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number_integer())
      throw std::runtime_error(std::string{"must be an integer, but is "} + v.type_name());
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        throw std::runtime_error("out of range: " + v.dump());
      return static_cast<T>(u);
    }
    auto i = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0)
        throw std::runtime_error("out of range: " + v.dump());
    } else if (i < static_cast<int64_t>(std::numeric_limits<T>::min())
               || i > static_cast<int64_t>(std::numeric_limits<T>::max())) {
      throw std::runtime_error("out of range: " + v.dump());
    }
    return static_cast<T>(i);
  } else {
    try {
      return v.get<T>();
    } catch (const json::exception& e) {
      // "[json.exception.type_error.302] type must be ..." -> "type must be ..."
      std::string what = e.what();
      auto cut = what.find("] ");
      throw std::runtime_error(cut == std::string::npos ? what : what.substr(cut + 2));
    }
  }
}

/// Reads `obj[key]` into `out`; a missing key keeps the default unless
/// `required`. Throws std::runtime_error("<where><key>: <reason>").
template <class T>
void field(const json& obj, const char* key, T& out, const std::string& where,
           bool required = false) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required)
      throw std::runtime_error(where + key + ": missing");
    return;
  }
  try {
    out = convert<T>(*it);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(where + key + ": " + e.what());
  }
}

/// Adds the record's fields to `obj` (a JSON object).
inline void put_record(json& obj, const instance_record& r) {
  obj["app"] = r.app;
  obj["index"] = r.index;
  obj["pid"] = r.pid;
  obj["start_time"] = r.start_time;
  obj["started_unix_ms"] = r.started_unix_ms;
  obj["restarts"] = r.restarts;
  obj["state"] = r.state;
  obj["want_up"] = r.want_up;
  obj["ready"] = r.ready;
  obj["last_exit"] = r.last_exit;
  obj["generation"] = r.generation;
}

/// The record in `obj`; `where` prefixes errors ("journal: instances[2].").
inline instance_record get_record(const json& obj, const std::string& where) {
  instance_record r;
  field(obj, "app", r.app, where, true);
  field(obj, "index", r.index, where, true);
  field(obj, "pid", r.pid, where, true);
  field(obj, "start_time", r.start_time, where, true);
  field(obj, "started_unix_ms", r.started_unix_ms, where);
  field(obj, "restarts", r.restarts, where);
  field(obj, "state", r.state, where);
  field(obj, "want_up", r.want_up, where);
  field(obj, "ready", r.ready, where);
  field(obj, "last_exit", r.last_exit, where);
  field(obj, "generation", r.generation, where);
  return r;
}

/// JSON text of `doc` on one line; invalid UTF-8 (an app name from a
/// hand-edited file) is replaced rather than thrown on.
inline std::string dump_line(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// The file helpers are os's (src/os/file_io.hpp).
using os::dir_of;
using os::errno_text;
using os::read_file;
using os::sync_dir_of;
using os::write_all;
using os::write_file_atomic;

} // namespace arbor::journal::detail
