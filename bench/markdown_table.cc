#include "bench/markdown_table.h"

#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace quarry::bench {

MarkdownTable::MarkdownTable(std::vector<std::string> header) : header_(std::move(header)) {}

void MarkdownTable::AddRow(std::vector<std::string> cells) {
  assert(cells.size() == header_.size());
  rows_.push_back(std::move(cells));
}

std::string MarkdownTable::Render() const {
  std::string text = absl::StrCat("| ", absl::StrJoin(header_, " | "), " |\n|");
  for (size_t i = 0; i < header_.size(); ++i) absl::StrAppend(&text, " --- |");
  absl::StrAppend(&text, "\n");
  for (const std::vector<std::string>& row : rows_) {
    absl::StrAppend(&text, "| ", absl::StrJoin(row, " | "), " |\n");
  }
  return text;
}

}  // namespace quarry::bench
