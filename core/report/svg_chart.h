// Bar charts as inline SVG, drawn when the report is written: the charts need no script and
// no library, and render the same in any browser, offline. Colours come from the report's CSS
// (classes "bar", "bar pass", "bar fail"), so the chart follows its light and dark themes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmeval::report {

struct Bar {
  std::string label;      // under the bar
  std::int64_t count = 0;  // bar height, and the number above it
  std::string css_class;  // "", "pass" or "fail"
  std::string tooltip;    // <title>, shown on hover
};

// A matrix of counts (a confusion matrix) as a grid of cells shaded by count, with the count in
// each non-empty cell; the diagonal (row i = column i) is outlined. Rows run down, columns
// across; `row_title` and `column_title` name the two axes ("judge", "label").
struct Heatmap {
  std::vector<std::string> row_labels;
  std::vector<std::string> column_labels;
  std::vector<std::vector<std::int64_t>> counts;  // counts[row][column]
  std::string row_title;
  std::string column_title;
};
std::string heatmap_svg(const Heatmap& heatmap, const std::string& aria_label);

// A vertical bar chart scaled to its tallest bar; `aria_label` describes it for screen readers.
std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& aria_label);

}  // namespace llmeval::report
