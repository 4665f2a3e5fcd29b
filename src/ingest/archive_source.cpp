// libarchive-backed archive reading and directory expansion.
#include "ingest/archive_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>

namespace vigil {
namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

constexpr std::size_t kMaxEntryBytes = std::size_t{4} << 30;  // an entry larger than this is refused, not read

}  // namespace

bool may_be_archive(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  using namespace std::string_view_literals;
  // Containers, then the compressions libarchive unwraps (a compressed tar).
  for (std::string_view magic : {"PK\x03\x04"sv, "PK\x05\x06"sv, "PK\x07\x08"sv, "7z\xbc\xaf\x27\x1c"sv, "Rar!\x1a\x07"sv,
                                 "\x1f\x8b"sv, "\x1f\x9d"sv, "BZh"sv, "\xfd" "7zXZ\x00"sv, "\x28\xb5\x2f\xfd"sv,
                                 "\x04\x22\x4d\x18"sv, "LZIP"sv, "\x5d\x00\x00"sv, "\x89LZO"sv}) {
    if (starts(magic)) return true;
  }
  if (head.size() < 512) return false;
  if (head.substr(257, 5) == "ustar") return true;
  // Old (v7) tar headers have no magic: their checksum (octal, at 148) is
  // the byte sum of the header with the checksum field read as spaces.
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(head[i]);
  unsigned stored = 0;
  bool digits = false;
  for (std::size_t i = 148; i < 156; ++i) {
    char c = head[i];
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + static_cast<unsigned>(c - '0');
      digits = true;
    } else if (c != ' ' && c != '\0') {
      return false;
    }
  }
  return digits && stored == sum;
}

bool read_archive(const std::string& path, const std::function<bool(const std::string& name, std::string& data)>& entry,
                  const std::function<void(std::string reason)>& error) {
  {
    // Only regular files are looked into: a FIFO or a device yields its bytes
    // once, and opening it here would take them from the reader (or wait for
    // a writer that has gone).
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    // Most inputs are plain EVTX or JSON: a look at their first bytes spares
    // them libarchive's probing (dozens of reads and seeks per file).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char head[512];
      ssize_t n = ::pread(fd, head, sizeof(head), 0);
      ::close(fd);
      if (n >= 0 && !may_be_archive({head, static_cast<std::size_t>(n)})) return false;
    }
  }
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  // Container formats only: "raw" would make any compressed file an archive,
  // and text formats such as mtree would claim plain NDJSON.
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_7zip(a.get());
  archive_read_support_format_rar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) return false;
  archive_entry* e = nullptr;
  int rc = archive_read_next_header(a.get(), &e);
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return false;
  for (; rc == ARCHIVE_OK || rc == ARCHIVE_WARN; rc = archive_read_next_header(a.get(), &e)) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "?";
    std::string data;
    if (archive_entry_size_is_set(e) && static_cast<std::size_t>(archive_entry_size(e)) < kMaxEntryBytes) {
      data.reserve(static_cast<std::size_t>(archive_entry_size(e)));
    }
    char block[1 << 16];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), block, sizeof(block));
      if (n < 0) {
        error(fmt::format("{}: {}", name, archive_error_string(a.get()) ? archive_error_string(a.get()) : "read error"));
        return true;
      }
      if (n == 0) break;
      if (data.size() + static_cast<std::size_t>(n) > kMaxEntryBytes) {
        error(fmt::format("{}: entry larger than {} bytes, not read", name, kMaxEntryBytes));
        data.clear();
        break;
      }
      data.append(block, static_cast<std::size_t>(n));
    }
    if (!data.empty() && !entry(fmt::format("{}:{}", path, name), data)) return true;
  }
  if (rc != ARCHIVE_EOF) {
    error(fmt::format("archive damaged: {}", archive_error_string(a.get()) ? archive_error_string(a.get()) : "error"));
  }
  return true;
}

std::vector<std::string> list_input_files(const std::string& directory) {
  static const char* const kExtensions[] = {".json", ".ndjson", ".jsonl", ".evtx", ".xml", ".gz", ".zst", ".zip",
                                            ".tar",  ".tgz",    ".7z",    ".log",  ".xz", ".bz2"};
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           directory, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions)) {
      out.push_back(it->path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vigil
