#include "services/text/markdown_extractor.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "services/text/markdown_inline.h"
#include "services/text/text_block_builder.h"

namespace quarry::text {
namespace {

using Path = std::vector<std::string>;
using Blocks = std::vector<std::pair<Path, std::string>>;

Blocks Extract(absl::string_view markdown) {
  TextBlockBuilder builder;
  ExtractMarkdown(markdown, &builder);
  Blocks blocks;
  for (TextBlock& block : builder.TakeBlocks()) {
    blocks.emplace_back(std::move(block.heading_path), std::move(block.text));
  }
  return blocks;
}

TEST(ExtractMarkdown, BuildsHeadingPathsFromAtxAndSetextHeadings) {
  EXPECT_EQ(Extract("Guide\n=====\n\nIntro text.\n\n## Install ##\n\nRun it.\n\n"
                    "### Linux\nOn Debian.\n\nUsage\n-----\nCall it.\n\n# Appendix\nLast."),
            (Blocks{{{"Guide"}, "Intro text."},
                    {{"Guide", "Install"}, "Run it."},
                    {{"Guide", "Install", "Linux"}, "On Debian."},
                    {{"Guide", "Usage"}, "Call it."},
                    {{"Appendix"}, "Last."}}));
}

TEST(ExtractMarkdown, MakesEachListItemABlock) {
  EXPECT_EQ(Extract("Steps:\n\n- First step\n  continues here\n* Second\n   1. Nested one\n"
                    "2) Numbered\n- [x] Done task\n\n---\nAfter the rule."),
            (Blocks{{{}, "Steps:"},
                    {{}, "First step continues here"},
                    {{}, "Second"},
                    {{}, "Nested one"},
                    {{}, "Numbered"},
                    {{}, "Done task"},
                    {{}, "After the rule."}}));
}

TEST(ExtractMarkdown, KeepsCodeBlocksVerbatim) {
  EXPECT_EQ(Extract("# Build\n\n```bash\ncd build\n\n  ninja -j2   # *not* emphasis\n```\n"
                    "Then:\n\n    ./quarry local\n    --base-port 7300\n\nDone.\n"
                    "~~~~\nunclosed ``` inside\n"),
            (Blocks{{{"Build"}, "cd build\n\n  ninja -j2   # *not* emphasis"},
                    {{"Build"}, "Then:"},
                    {{"Build"}, "./quarry local\n--base-port 7300"},
                    {{"Build"}, "Done."},
                    {{"Build"}, "unclosed ``` inside"}}));
}

TEST(ExtractMarkdown, RendersInlineMarkupToText) {
  EXPECT_EQ(Extract("Read **the [manual](https://example.com/m \"Manual\")** and _notes_, "
                    "see ![diagram](d.png) or [the FAQ][faq].\n\n[faq]: https://example.com/faq\n"),
            (Blocks{{{}, "Read the manual and notes, see diagram or the FAQ."}}));
}

TEST(ExtractMarkdown, ReadsTablesQuotesAndSkipsFrontMatter) {
  EXPECT_EQ(Extract("---\ntitle: Ops\ntags: [a]\n---\n| Flag | Meaning |\n|---|:--|\n"
                    "| `--json` | Print JSON \\| text |\n\n> Quoted *advice*\n> over two lines.\n"
                    "<!-- a comment -->\n\nText."),
            (Blocks{{{}, "Flag | Meaning"},
                    {{}, "--json | Print JSON | text"},
                    {{}, "Quoted advice over two lines."},
                    {{}, "Text."}}));
}

TEST(MarkdownInlineToText, LeavesWhatIsNotMarkupAlone) {
  EXPECT_EQ(MarkdownInlineToText("snake_case_name and 2 * 3 = 6"), "snake_case_name and 2 * 3 = 6");
  EXPECT_EQ(MarkdownInlineToText("CREATE [ UNIQUE ] INDEX"), "CREATE [ UNIQUE ] INDEX");
  EXPECT_EQ(MarkdownInlineToText("a < b and an unclosed `tick"), "a < b and an unclosed `tick");
  EXPECT_EQ(MarkdownInlineToText("``code with ` inside`` \\*literal\\*"),
            "code with ` inside *literal*");
  EXPECT_EQ(MarkdownInlineToText("<https://quarry.dev> and <kbd>Ctrl</kbd> ~~old~~ new"),
            "https://quarry.dev and Ctrl old new");
  EXPECT_EQ(MarkdownInlineToText("中文 **加粗** 文本"), "中文 加粗 文本");
}

TEST(MarkdownInlineToText, StaysLinearOnUnmatchedBrackets) {
  const std::string brackets(200000, '[');
  EXPECT_EQ(MarkdownInlineToText(brackets), brackets);
}

}  // namespace
}  // namespace quarry::text
