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

}  // namespace llmeval::report
