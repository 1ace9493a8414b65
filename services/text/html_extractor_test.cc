#include "services/text/html_extractor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "services/text/document_extractor.h"

namespace quarry::text {
namespace {

constexpr char kPostgresManual[] = "/usr/share/doc/postgresql-doc-15/html";

// The first block containing `needle`, or nullptr.
const TextBlock* FindBlock(const ExtractedDocument& document, absl::string_view needle) {
  for (const TextBlock& block : document.blocks) {
    if (absl::StrContains(block.text, needle)) return &block;
  }
  return nullptr;
}

ExtractedDocument ExtractHtmlOrDie(absl::string_view html) {
  absl::StatusOr<ExtractedDocument> document = ExtractDocument(html, "page.html", {});
  EXPECT_TRUE(document.ok()) << document.status();
  return document.ok() ? *std::move(document) : ExtractedDocument();
}

TEST(HtmlExtraction, ReadsAPostgresManualPage) {
  const absl::StatusOr<ExtractedDocument> document =
      ExtractFile(std::string(kPostgresManual) + "/sql-createindex.html", {});
  ASSERT_TRUE(document.ok()) << document.status();
  EXPECT_EQ(document->title, "CREATE INDEX");
  EXPECT_EQ(document->media_type, "text/html");

  const TextBlock* description = FindBlock(
      *document,
      "CREATE INDEX constructs an index on the specified column(s) of the specified relation, "
      "which can be a table or a materialized view.");
  ASSERT_NE(description, nullptr);
  EXPECT_EQ(description->heading_path, std::vector<std::string>{"Description"});

  const TextBlock* storage =
      FindBlock(*document, "The optional WITH clause specifies storage parameters for the index.");
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->heading_path,
            (std::vector<std::string>{"Parameters", "Index Storage Parameters"}));

  // The synopsis is preformatted and keeps its lines.
  const TextBlock* synopsis = FindBlock(*document, "CREATE [ UNIQUE ] INDEX [ CONCURRENTLY ]");
  ASSERT_NE(synopsis, nullptr);
  EXPECT_EQ(synopsis->heading_path, std::vector<std::string>{"Synopsis"});
  EXPECT_TRUE(absl::StrContains(synopsis->text, "\n    [ INCLUDE ( column_name [, ...] ) ]"))
      << synopsis->text;

  // The navigation header and footer ("Prev", "Up", "Home", "Next") are gone.
  for (const TextBlock& block : document->blocks) {
    EXPECT_FALSE(absl::StrContains(block.text, "Prev")) << block.text;
    EXPECT_FALSE(absl::StrContains(block.text, "Home")) << block.text;
  }
}

TEST(HtmlExtraction, ReadsEveryPostgresSqlCommandPage) {
  // Real pages nobody tuned the extractor for: each gives its title and some text.
  for (const char* page : {"sql-select.html", "sql-copy.html", "tutorial-join.html",
                           "datatype-json.html", "index.html"}) {
    const absl::StatusOr<ExtractedDocument> document =
        ExtractFile(std::string(kPostgresManual) + "/" + page, {});
    ASSERT_TRUE(document.ok()) << document.status();
    EXPECT_FALSE(document->title.empty()) << page;
    EXPECT_GT(document->blocks.size(), 3u) << page;
    EXPECT_EQ(document->replaced_invalid_bytes, 0u) << page;
  }
}

TEST(HtmlExtraction, DropsScriptsStylesNavigationAndHiddenParts) {
  const ExtractedDocument document = ExtractHtmlOrDie(R"(<!DOCTYPE html>
<html><head><title> Install
  guide </title><style>p { color: red }</style><script>track("head")</script></head>
<body>
<header><a href="/">Site name</a><h1>Installing Quarry</h1><nav>Docs Blog</nav></header>
<nav><ul><li>Home</li><li>About</li></ul></nav>
<div class="breadcrumbs">Docs &gt; Install</div>
<main>
  <p>Run the   <code>bootstrap</code>
     script first.</p>
  <noscript>Enable JavaScript</noscript>
  <template><p>Template text</p></template>
  <form><input type="hidden" name="token" value="abc"><label>Search</label>
    <select><option>English</option></select><button>Go</button></form>
  <div hidden>Hidden text</div><span aria-hidden="true">Icon text</span>
  <p style="display: none">Invisible text</p>
  <article><footer>Written by the docs team</footer></article>
</main>
<footer>Copyright notice</footer>
<script>track("body")</script>
</body></html>)");
  EXPECT_EQ(document.title, "Install guide");
  std::vector<std::string> texts;
  for (const TextBlock& block : document.blocks) texts.push_back(block.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"Run the bootstrap script first.", "Search",
                                             "Written by the docs team"}));
  EXPECT_EQ(document.blocks[0].heading_path, std::vector<std::string>{"Installing Quarry"});
}

TEST(HtmlExtraction, BuildsHeadingPathsAndBlocks) {
  const ExtractedDocument document = ExtractHtmlOrDie(R"(<html><body>
<h1>Guide</h1><p>Intro &amp; overview.</p>
<h2>Setup</h2><ul><li>First item</li><li>Second <b>bold</b> item</li></ul>
<h3>Options</h3><dl><dt>--port</dt><dd>The port&nbsp;to listen on.</dd></dl>
<table><tr><th>Name</th><th>Default</th></tr><tr><td>port</td><td>7300</td></tr></table>
<h2>Usage</h2><blockquote>Quoted advice.</blockquote><div>Loose div text<p>Nested</p></div>
</body></html>)");
  EXPECT_EQ(document.title, "Guide");  // no <title>: the first h1
  std::vector<std::pair<std::vector<std::string>, std::string>> blocks;
  for (const TextBlock& block : document.blocks)
    blocks.emplace_back(block.heading_path, block.text);
  using Path = std::vector<std::string>;
  EXPECT_EQ(blocks, (std::vector<std::pair<Path, std::string>>{
                        {{"Guide"}, "Intro & overview."},
                        {{"Guide", "Setup"}, "First item"},
                        {{"Guide", "Setup"}, "Second bold item"},
                        {{"Guide", "Setup", "Options"}, "--port"},
                        {{"Guide", "Setup", "Options"}, "The port to listen on."},
                        {{"Guide", "Setup", "Options"}, "Name | Default"},
                        {{"Guide", "Setup", "Options"}, "port | 7300"},
                        {{"Guide", "Usage"}, "Quoted advice."},
                        {{"Guide", "Usage"}, "Loose div text"},
                        {{"Guide", "Usage"}, "Nested"},
                    }));
}

TEST(HtmlExtraction, ReadsBrokenHtml) {
  const ExtractedDocument document = ExtractHtmlOrDie(
      "<html><body><p>First <b>bold <i>mixed</b> text<p>Second &copy 2024 &bogus; <div>Unclosed "
      "<table><td>cell</span></table><h2>Late heading<p>After");
  std::vector<std::string> texts;
  for (const TextBlock& block : document.blocks) texts.push_back(block.text);
  EXPECT_EQ(texts,
            (std::vector<std::string>{"First bold mixed text", "Second \xC2\xA9 2024 &bogus;",
                                      "Unclosed", "cell", "After"}));
  EXPECT_EQ(document.blocks.back().heading_path, std::vector<std::string>{"Late heading"});
}

TEST(HtmlExtraction, SurvivesDeepNesting) {
  std::string html = "<html><body>";
  for (int i = 0; i < 20000; ++i) html += "<div>";
  html += "deep text";
  const ExtractedDocument document = ExtractHtmlOrDie(html);
  ASSERT_EQ(document.blocks.size(), 1u);
  EXPECT_EQ(document.blocks[0].text, "deep text");
}

TEST(HtmlExtraction, ReadsChineseText) {
  const ExtractedDocument document = ExtractHtmlOrDie(
      "<html><head><meta charset=\"utf-8\"><title>数据库手册</title></head><body>"
      "<h1>简介</h1><p>本手册介绍如何  创建索引。</p><h2>创建索引</h2>"
      "<p>使用 CREATE INDEX 命令在表的列上创建索引。</p></body></html>");
  EXPECT_EQ(document.title, "数据库手册");
  ASSERT_EQ(document.blocks.size(), 2u);
  EXPECT_EQ(document.blocks[0].text, "本手册介绍如何 创建索引。");
  EXPECT_EQ(document.blocks[1].heading_path, (std::vector<std::string>{"简介", "创建索引"}));
  EXPECT_EQ(document.blocks[1].text, "使用 CREATE INDEX 命令在表的列上创建索引。");
}

TEST(HtmlExtraction, ConvertsTheDeclaredCharset) {
  // "中文" in GBK, declared with the legacy http-equiv form and the gb2312 label.
  const ExtractedDocument gbk = ExtractHtmlOrDie(
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
      "</head><body><p>\xD6\xD0\xCE\xC4</p></body></html>");
  ASSERT_EQ(gbk.blocks.size(), 1u);
  EXPECT_EQ(gbk.blocks[0].text, "中文");
  EXPECT_EQ(gbk.replaced_invalid_bytes, 0u);

  // iso-8859-1 is read as windows-1252, as browsers do: 0x80 is the euro sign.
  const ExtractedDocument latin =
      ExtractHtmlOrDie("<meta charset='ISO-8859-1'><p>caf\xE9 costs 3\x80</p>");
  ASSERT_EQ(latin.blocks.size(), 1u);
  EXPECT_EQ(latin.blocks[0].text, "caf\xC3\xA9 costs 3\xE2\x82\xAC");
}

TEST(HtmlExtraction, ReadsUndeclaredBytesAsUtf8WithReplacement) {
  const ExtractedDocument document = ExtractHtmlOrDie("<p>caf\xE9</p>");
  ASSERT_EQ(document.blocks.size(), 1u);
  EXPECT_EQ(document.blocks[0].text, "caf\xEF\xBF\xBD");
  EXPECT_EQ(document.replaced_invalid_bytes, 1u);
}

}  // namespace
}  // namespace quarry::text
