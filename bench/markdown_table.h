// A Markdown table built row by row, for the benchmark report.
#ifndef QUARRY_BENCH_MARKDOWN_TABLE_H_
#define QUARRY_BENCH_MARKDOWN_TABLE_H_

#include <string>
#include <vector>

namespace quarry::bench {

class MarkdownTable {
 public:
  explicit MarkdownTable(std::vector<std::string> header);

  // REQUIRES: as many cells as the header has columns.
  void AddRow(std::vector<std::string> cells);

  // The header, the separator line and every row, each ending in a newline.
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_MARKDOWN_TABLE_H_
