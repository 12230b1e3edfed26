#include "train/loss_plot.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace tb {

std::vector<double> smooth_ema(const std::vector<double>& v) {
    if (v.empty()) return {};
    const double n = static_cast<double>(v.size());
    const double w = 1.8 * (1.0 / (1.0 + std::exp(-0.05 * n)) - 0.5);
    std::vector<double> out;
    double last = v[0];
    for (double x : v) {
        last = last * w + (1.0 - w) * x;
        out.push_back(last);
    }
    return out;
}

std::string loss_plot_svg(const nlohmann::json& history, const std::string& key) {
    std::vector<double> steps, values;
    for (const auto& e : history) {
        if (e.contains(key) && e[key].is_number() && e.contains("step")) {
            steps.push_back(e["step"].get<double>());
            values.push_back(e[key].get<double>());
        }
    }
    if (values.empty()) return {};
    const auto smooth = smooth_ema(values);
    const double W = 640, H = 400, L = 70, R = 20, T = 40, B = 50;
    double x0 = steps.front(), x1 = steps.back();
    if (x1 <= x0) x1 = x0 + 1;
    double y0 = *std::min_element(values.begin(), values.end()), y1 = *std::max_element(values.begin(), values.end());
    if (y1 <= y0) y1 = y0 + 1e-6 + std::abs(y0) * 0.1;
    auto X = [&](double s) { return L + (s - x0) / (x1 - x0) * (W - L - R); };
    auto Y = [&](double v) { return T + (y1 - v) / (y1 - y0) * (H - T - B); };
    std::ostringstream os;
    os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
       << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
       << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << key << "</text>\n"
       << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R << "\" y2=\"" << H - B << "\" stroke=\"black\"/>\n"
       << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - B << "\" stroke=\"black\"/>\n";
    for (int i = 0; i <= 4; ++i) {
        const double v = y0 + (y1 - y0) * i / 4.0, s = x0 + (x1 - x0) * i / 4.0;
        os << "<text x=\"" << L - 6 << "\" y=\"" << Y(v) + 4 << "\" text-anchor=\"end\">" << std::setprecision(4) << v << "</text>\n"
           << "<text x=\"" << X(s) << "\" y=\"" << H - B + 18 << "\" text-anchor=\"middle\">" << std::llround(s) << "</text>\n";
    }
    os << "<text x=\"" << W / 2 << "\" y=\"" << H - 12 << "\" text-anchor=\"middle\">step</text>\n";
    auto polyline = [&](const std::vector<double>& ys, const char* style) {
        os << "<polyline fill=\"none\" " << style << " points=\"";
        for (size_t i = 0; i < ys.size(); ++i) os << X(steps[i]) << "," << Y(ys[i]) << " ";
        os << "\"/>\n";
    };
    polyline(values, "stroke=\"#1f77b4\" stroke-opacity=\"0.4\"");
    polyline(smooth, "stroke=\"#1f77b4\" stroke-width=\"2\"");
    os << "<text x=\"" << W - R << "\" y=\"" << T << "\" text-anchor=\"end\" fill=\"#1f77b4\">original (faint), smoothed</text>\n"
       << "</svg>\n";
    return os.str();
}

}  // namespace tb
