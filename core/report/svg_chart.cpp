#include "core/report/svg_chart.h"

#include <algorithm>

#include "core/report/html_text.h"

namespace llmeval::report {
namespace {

constexpr int kHeight = 132;
constexpr int kTop = 16;      // room for the count above the tallest bar
constexpr int kBottom = 18;   // room for the labels
constexpr int kSlot = 34;     // width per bar, gap included
constexpr int kMinWidth = 240;

std::string number(double value) { return format_decimal(value, 1); }

// The count above a bar fits its width: 19,769 reads as 19.8k (the tooltip has it exactly).
std::string count_label(std::int64_t count) {
  if (count < 10'000) return format_count(count);
  if (count < 1'000'000) return format_decimal(static_cast<double>(count) / 1e3, count < 100'000 ? 1 : 0) + "k";
  return format_decimal(static_cast<double>(count) / 1e6, 1) + "M";
}

}  // namespace

std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& aria_label) {
  // Bars keep their width whatever their number; a few bars sit in the middle of the chart.
  const int width = std::max(kMinWidth, static_cast<int>(bars.size()) * kSlot);
  const double slot = kSlot;
  const double left = (width - static_cast<double>(bars.size()) * slot) / 2;
  std::int64_t tallest = 1;
  for (const Bar& bar : bars) tallest = std::max(tallest, bar.count);
  const double plot = kHeight - kTop - kBottom;

  std::string svg = "<svg class=\"chart histogram\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(kHeight) + "\" role=\"img\" aria-label=\"" + html_escape(aria_label) +
                    "\" preserveAspectRatio=\"xMinYMin meet\">";
  svg += "<line class=\"baseline\" x1=\"0\" x2=\"" + std::to_string(width) + "\" y1=\"" +
         std::to_string(kHeight - kBottom) + "\" y2=\"" + std::to_string(kHeight - kBottom) + "\"/>";
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& bar = bars[i];
    // A non-empty bucket is always visible, however small next to the tallest.
    double height = plot * static_cast<double>(bar.count) / static_cast<double>(tallest);
    if (bar.count > 0) height = std::max(height, 2.0);
    const double x = left + slot * static_cast<double>(i) + slot * 0.12;
    const double bar_width = slot * 0.76;
    const double y = kHeight - kBottom - height;
    const double middle = left + slot * (static_cast<double>(i) + 0.5);
    svg += "<g><title>" + html_escape(bar.tooltip.empty() ? bar.label + ": " + format_count(bar.count) : bar.tooltip) +
           "</title>";
    svg += "<rect class=\"bar" + (bar.css_class.empty() ? "" : " " + bar.css_class) + "\" x=\"" + number(x) +
           "\" y=\"" + number(y) + "\" width=\"" + number(bar_width) + "\" height=\"" + number(height) + "\"/>";
    if (bar.count > 0) {
      svg += "<text class=\"value\" x=\"" + number(middle) + "\" y=\"" + number(y - 3) +
             "\" text-anchor=\"middle\">" + count_label(bar.count) + "</text>";
    }
    svg += "<text class=\"axis\" x=\"" + number(middle) + "\" y=\"" + std::to_string(kHeight - 4) +
           "\" text-anchor=\"middle\">" + html_escape(bar.label) + "</text></g>";
  }
  svg += "</svg>";
  return svg;
}

std::string heatmap_svg(const Heatmap& heatmap, const std::string& aria_label) {
  constexpr int kCell = 26;
  constexpr int kLeft = 42;  // the row title, turned, and the row labels
  constexpr int kTop = 32;   // the column title and the column labels
  const std::size_t rows = heatmap.counts.size();
  std::size_t columns = heatmap.column_labels.size();
  for (const auto& row : heatmap.counts) columns = std::max(columns, row.size());
  const int width = kLeft + static_cast<int>(columns) * kCell + 2;
  const int height = kTop + static_cast<int>(rows) * kCell + 2;
  std::int64_t largest = 1;
  for (const auto& row : heatmap.counts) {
    for (std::int64_t count : row) largest = std::max(largest, count);
  }
  auto label = [](const std::vector<std::string>& labels, std::size_t i) {
    return i < labels.size() ? labels[i] : std::to_string(i);
  };

  std::string svg = "<svg class=\"heatmap\" width=\"" + std::to_string(width) + "\" height=\"" +
                    std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(height) + "\" role=\"img\" aria-label=\"" + html_escape(aria_label) + "\">";
  svg += "<text class=\"title\" x=\"" + number(kLeft + static_cast<double>(columns) * kCell / 2) +
         "\" y=\"10\" text-anchor=\"middle\">" + html_escape(heatmap.column_title) + " →</text>";
  svg += "<text class=\"title\" transform=\"rotate(-90)\" x=\"" +
         number(-(kTop + static_cast<double>(rows) * kCell / 2)) + "\" y=\"10\" text-anchor=\"middle\">" +
         html_escape(heatmap.row_title) + " →</text>";
  for (std::size_t c = 0; c < columns; ++c) {
    svg += "<text class=\"axis\" x=\"" + number(kLeft + (static_cast<double>(c) + 0.5) * kCell) + "\" y=\"" +
           std::to_string(kTop - 6) + "\" text-anchor=\"middle\">" + html_escape(label(heatmap.column_labels, c)) +
           "</text>";
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const double y = kTop + static_cast<double>(r) * kCell;
    svg += "<text class=\"axis\" x=\"" + std::to_string(kLeft - 6) + "\" y=\"" + number(y + kCell / 2.0 + 3.5) +
           "\" text-anchor=\"end\">" + html_escape(label(heatmap.row_labels, r)) + "</text>";
    for (std::size_t c = 0; c < columns; ++c) {
      const std::int64_t count = c < heatmap.counts[r].size() ? heatmap.counts[r][c] : 0;
      const double share = static_cast<double>(count) / static_cast<double>(largest);
      const double x = kLeft + static_cast<double>(c) * kCell;
      svg += "<g><title>" +
             html_escape(heatmap.row_title + " " + label(heatmap.row_labels, r) + ", " + heatmap.column_title + " " +
                         label(heatmap.column_labels, c) + ": " + format_count(count) +
                         (count == 1 ? " row" : " rows")) +
             "</title>";
      svg += "<rect class=\"cell" + std::string(r == c ? " diagonal" : "") + "\" x=\"" + number(x + 1) + "\" y=\"" +
             number(y + 1) + "\" width=\"" + std::to_string(kCell - 2) + "\" height=\"" + std::to_string(kCell - 2) +
             "\" fill-opacity=\"" + format_decimal(count > 0 ? 0.1 + 0.75 * share : 0, 2) + "\"/>";
      if (count > 0) {
        svg += "<text class=\"value" + std::string(share > 0.5 ? " on-dark" : "") + "\" x=\"" +
               number(x + kCell / 2.0) + "\" y=\"" + number(y + kCell / 2.0 + 3.5) + "\" text-anchor=\"middle\">" +
               count_label(count) + "</text>";
      }
      svg += "</g>";
    }
  }
  return svg + "</svg>";
}

}  // namespace llmeval::report
