#include "services/text/rank_table.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace quarry::text {
namespace {

struct ParsedLine {
  std::string bytes;
  uint32_t rank = 0;
};

absl::StatusOr<ParsedLine> ParseLine(absl::string_view line, size_t line_number) {
  const auto bad_line = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("rank table line ", line_number, ": ", what));
  };
  std::pair<absl::string_view, absl::string_view> fields = absl::StrSplit(line, ' ');
  ParsedLine parsed;
  if (!absl::Base64Unescape(fields.first, &parsed.bytes) || parsed.bytes.empty()) {
    return bad_line("the token is not non-empty base64");
  }
  if (!absl::SimpleAtoi(fields.second, &parsed.rank) || parsed.rank == RankTable::kNoRank) {
    return bad_line("the rank is not a number below 2^32 - 1");
  }
  return parsed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RankTable>> RankTable::Parse(absl::string_view contents) {
  std::vector<ParsedLine> lines;
  size_t total_bytes = 0;
  uint32_t highest_rank = 0;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    absl::StatusOr<ParsedLine> parsed = ParseLine(line, line_number);
    if (!parsed.ok()) return parsed.status();
    total_bytes += parsed->bytes.size();
    highest_rank = std::max(highest_rank, parsed->rank);
    lines.push_back(*std::move(parsed));
  }
  if (lines.empty()) return absl::InvalidArgumentError("the rank table holds no tokens");
  if (total_bytes > UINT32_MAX) return absl::InvalidArgumentError("the rank table is too large");

  // The map's keys point into token_bytes_, so it is filled completely before any key is made.
  auto table = std::unique_ptr<RankTable>(new RankTable());
  table->token_bytes_.reserve(total_bytes);
  table->bytes_of_rank_.resize(static_cast<size_t>(highest_rank) + 1);
  for (const ParsedLine& line : lines) {
    TokenSpan& span = table->bytes_of_rank_[line.rank];
    if (span.length != 0) {
      return absl::InvalidArgumentError(absl::StrCat("rank ", line.rank, " is given twice"));
    }
    span.offset = static_cast<uint32_t>(table->token_bytes_.size());
    span.length = static_cast<uint32_t>(line.bytes.size());
    table->token_bytes_.append(line.bytes);
  }
  for (const ParsedLine& line : lines) {
    if (!table->Index(table->Bytes(line.rank), line.rank)) {
      return absl::InvalidArgumentError(
          absl::StrCat("token ", absl::CHexEscape(line.bytes), " is given twice"));
    }
  }
  table->size_ = lines.size();

  for (int byte = 0; byte < 256; ++byte) {
    const char single = static_cast<char>(byte);
    if (table->Find(absl::string_view(&single, 1)) == kNoRank) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the single byte 0x%02X has no rank, so not all text can be encoded", byte));
    }
  }
  return table;
}

bool RankTable::Index(absl::string_view bytes, uint32_t rank) {
  if (bytes.size() <= 2) {
    uint32_t& indexed = rank_of_short_bytes_[ShortIndex(bytes)];
    if (indexed != kNoRank) return false;
    indexed = rank;
    return true;
  }
  if (bytes.size() <= kMaxPackedBytes) {
    return rank_of_packed_bytes_.emplace(PackBytes(bytes), rank).second;
  }
  return rank_of_long_bytes_.emplace(bytes, rank).second;
}

absl::StatusOr<std::unique_ptr<RankTable>> RankTable::Load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open rank table ", path));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read rank table ", path));

  absl::StatusOr<std::unique_ptr<RankTable>> table = Parse(contents.str());
  if (!table.ok()) {
    return absl::Status(table.status().code(), absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

}  // namespace quarry::text
