// Archives (zip, tar, tar.gz, 7z, ... through libarchive) and directories
// as inputs: each regular file inside is handed over whole, with a name
// saying where it came from ("logs.zip:host1/sysmon.json").
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Calls `entry` for every regular file of the archive at `path`, in archive
// order. Returns false without calling it when `path` is not an archive
// (plain or merely compressed files are not, nor is anything but a regular
// file). Damage inside the archive is reported through `error` (entry name
// and reason); reading stops there.
bool read_archive(const std::string& path, const std::function<bool(const std::string& name, std::string& data)>& entry,
                  const std::function<void(std::string reason)>& error);

// True when `head` (a file's first 512 bytes, or all of a shorter file)
// starts like an archive or a compressed file libarchive would open.
bool may_be_archive(std::string_view head);

// Files of a directory, recursively, sorted, that look like event data by
// their extension (.json .ndjson .jsonl .evtx .gz .zst .zip .tar .tgz ...).
std::vector<std::string> list_input_files(const std::string& directory);

}  // namespace vigil
