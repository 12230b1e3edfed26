#include "eval/weight_analysis.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/lora_adapter.h"
#include "core/error.h"
#include "core/log.h"
#include "io/atomic_file.h"
#include "io/json_text.h"
#include "model/decoder.h"

namespace tb {
namespace {

int64_t layer_of(const std::string& name) {
    for (const char* marker : {".layers.", ".layer.", ".h."}) {
        const auto at = name.find(marker);
        if (at == std::string::npos) continue;
        const auto start = at + std::char_traits<char>::length(marker);
        const auto end = name.find('.', start);
        const std::string digits = name.substr(start, end - start);
        if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos) return std::stoll(digits);
    }
    return -1;
}

std::vector<double> to_vector(const at::Tensor& t) {
    const auto c = t.to(at::kCPU, at::kDouble).contiguous();
    return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Statistics and histogram of the values (population std, as numpy's default).
void value_statistics(MatrixAnalysis& m, const at::Tensor& w, int64_t bins) {
    const auto d = w.to(at::kDouble);
    m.rows = w.size(0);
    m.cols = w.size(1);
    m.mean = d.mean().item<double>();
    m.std = d.std(/*unbiased=*/false).item<double>();
    m.min = d.min().item<double>();
    m.max = d.max().item<double>();
    m.frobenius = d.norm().item<double>();
    m.hist_lo = m.min;
    m.hist_hi = m.max > m.min ? m.max : m.min + 1.0;
    const auto counts = at::histc(d, bins, m.hist_lo, m.hist_hi).to(at::kLong).cpu();
    m.histogram.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

void rank_measures(MatrixAnalysis& m) {
    const auto& s = m.singular_values;
    const double top = s.empty() ? 0.0 : s.front();
    m.stable_rank = top > 0 ? m.frobenius * m.frobenius / (top * top) : 0.0;
    if (!m.exact) {
        double listed = 0;
        for (double v : s) listed += v * v;
        m.tail_energy = m.frobenius > 0 ? std::max(0.0, 1.0 - listed / (m.frobenius * m.frobenius)) : 0.0;
        m.effective_rank = -1;
        return;
    }
    double sum = 0, entropy = 0;
    for (double v : s) sum += v;
    for (double v : s)
        if (v > 0 && sum > 0) entropy -= v / sum * std::log(v / sum);
    m.effective_rank = sum > 0 ? std::exp(entropy) : 0.0;
}

// Halko, Martinsson & Tropp: a range finder of k + 10 columns with two power iterations, then the
// exact singular values of Qᵀ W. By Weyl each is within ‖W − QQᵀW‖₂ ≤ ‖W − QQᵀW‖_F of the true one.
void randomized_spectrum(MatrixAnalysis& m, const at::Tensor& w, int64_t k, at::Generator& gen) {
    const int64_t cols = std::min<int64_t>(k + 10, std::min(w.size(0), w.size(1)));
    auto omega = at::empty({w.size(1), cols}, at::kFloat);
    omega.normal_(0.0, 1.0, gen);
    auto q = std::get<0>(at::linalg_qr(at::mm(w, omega.to(w.device()))));
    for (int i = 0; i < 2; ++i) {
        const auto z = std::get<0>(at::linalg_qr(at::mm(w.t(), q)));
        q = std::get<0>(at::linalg_qr(at::mm(w, z)));
    }
    const auto b = at::mm(q.t(), w).to(at::kDouble);
    auto s = to_vector(at::linalg_svdvals(b));
    if (static_cast<int64_t>(s.size()) > k) s.resize(k);
    m.singular_values = s;
    m.exact = false;
    const double total = m.frobenius * m.frobenius, kept = b.norm().item<double>();
    m.spectrum_error = std::sqrt(std::max(0.0, total - kept * kept));
}

MatrixAnalysis analyze_matrix(const std::string& name, const at::Tensor& w, const WeightAnalysisOptions& o, at::Generator& gen) {
    MatrixAnalysis m;
    m.name = name;
    m.kind = name.substr(name.rfind('.') + 1);
    m.layer = layer_of(name);
    value_statistics(m, w, o.bins);
    if (w.is_cuda() || std::min(w.size(0), w.size(1)) <= o.exact_limit) {
        // exact: in double on the CPU (the reference), in fp32 by cuSOLVER on the GPU
        m.singular_values = to_vector(at::linalg_svdvals(w.is_cuda() ? w : w.to(at::kDouble)));
    } else {
        randomized_spectrum(m, w, o.top_k, gen);
    }
    rank_measures(m);
    return m;
}

// ΔW = B·A of rank r: its spectrum exactly, from the r×r core R_B R_Aᵀ of B = Q_B R_B, Aᵀ = Q_A R_A.
MatrixAnalysis analyze_update(const std::string& name, const at::Tensor& B, const at::Tensor& A, const WeightAnalysisOptions& o) {
    MatrixAnalysis m;
    m.name = name;
    m.kind = name.substr(name.rfind('.') + 1);
    m.layer = layer_of(name);
    m.adapter = true;
    const auto b = B.to(at::kDouble), a = A.to(at::kDouble);
    value_statistics(m, at::mm(b, a), o.bins);
    const auto rb = std::get<1>(at::linalg_qr(b)), ra = std::get<1>(at::linalg_qr(a.t()));
    m.singular_values = to_vector(at::linalg_svdvals(at::mm(rb, ra.t())));
    rank_measures(m);
    return m;
}

struct Series {
    std::string label;
    std::vector<double> x, y;
};

const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string line_chart_svg(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                           const std::vector<Series>& series, const std::vector<std::string>& legend) {
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (const auto& s : series)
        for (size_t i = 0; i < s.x.size(); ++i) {
            x0 = std::min(x0, s.x[i]);
            x1 = std::max(x1, s.x[i]);
            y0 = std::min(y0, s.y[i]);
            y1 = std::max(y1, s.y[i]);
        }
    if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    const double W = 760, H = 460, L = 70, R = 150, T = 40, Bm = 50;
    auto X = [&](double v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
    auto Y = [&](double v) { return T + (y1 - v) / (y1 - y0) * (H - T - Bm); };
    std::ostringstream os;
    os << std::setprecision(4) << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
       << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
       << "<text x=\"" << (W - R) / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << title << "</text>\n"
       << "<line x1=\"" << L << "\" y1=\"" << H - Bm << "\" x2=\"" << W - R << "\" y2=\"" << H - Bm << "\" stroke=\"black\"/>\n"
       << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - Bm << "\" stroke=\"black\"/>\n";
    for (int i = 0; i <= 4; ++i) {
        const double v = y0 + (y1 - y0) * i / 4.0, u = x0 + (x1 - x0) * i / 4.0;
        os << "<text x=\"" << L - 6 << "\" y=\"" << Y(v) + 4 << "\" text-anchor=\"end\">" << v << "</text>\n"
           << "<text x=\"" << X(u) << "\" y=\"" << H - Bm + 18 << "\" text-anchor=\"middle\">" << u << "</text>\n";
    }
    os << "<text x=\"" << (W - R) / 2 << "\" y=\"" << H - 12 << "\" text-anchor=\"middle\">" << xlabel << "</text>\n"
       << "<text x=\"16\" y=\"" << H / 2 << "\" transform=\"rotate(-90 16 " << H / 2 << ")\" text-anchor=\"middle\">" << ylabel
       << "</text>\n";
    for (const auto& s : series) {
        const auto at = std::find(legend.begin(), legend.end(), s.label) - legend.begin();
        os << "<polyline fill=\"none\" stroke=\"" << kColors[at % 8] << "\" stroke-opacity=\"0.7\" points=\"";
        for (size_t i = 0; i < s.x.size(); ++i) os << X(s.x[i]) << "," << Y(s.y[i]) << " ";
        os << "\"/>\n";
    }
    for (size_t i = 0; i < legend.size(); ++i)
        os << "<text x=\"" << W - R + 10 << "\" y=\"" << T + 16 * i << "\" fill=\"" << kColors[i % 8] << "\">" << legend[i] << "</text>\n";
    os << "</svg>\n";
    return os.str();
}

std::vector<std::string> kinds_of(const std::vector<MatrixAnalysis>& ms, bool adapter) {
    std::vector<std::string> kinds;
    for (const auto& m : ms)
        if (m.adapter == adapter && std::find(kinds.begin(), kinds.end(), m.kind) == kinds.end()) kinds.push_back(m.kind);
    return kinds;
}

}  // namespace

std::vector<MatrixAnalysis> analyze_weights(const std::string& model_dir, const WeightAnalysisOptions& o) {
    at::NoGradGuard no_grad;
    // the checkpoint's own dtype (a 6B model in bf16 needs 12 GB, not 24); each matrix goes to fp32/fp64 alone
    auto model = Model::load(model_dir, {.dtype = "auto", .device = o.device});
    auto gen = at::detail::createCPUGenerator(o.seed);
    std::vector<MatrixAnalysis> out;
    auto wanted = [&](const std::string& name) { return o.filter.empty() || name.find(o.filter) != std::string::npos; };
    for (Linear* l : model->linears()) {
        if (!wanted(l->name)) continue;
        out.push_back(analyze_matrix(l->name, l->dense_weight().to(at::kFloat), o, gen));
        log::debug("analysed ", l->name);
    }
    if (!o.adapter_dir.empty()) {
        load_lora(*model, o.adapter_dir);
        for (Linear* l : model->linears())
            if (l->lora && wanted(l->name))
                out.push_back(analyze_update(l->name, l->lora->B.to(at::kFloat) * l->lora->scaling, l->lora->effective_A().to(at::kFloat), o));
    }
    return out;
}

nlohmann::json weight_analysis_json(const std::vector<MatrixAnalysis>& ms) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : ms) {
        list.push_back({{"name", m.name}, {"kind", m.kind}, {"layer", m.layer}, {"adapter_update", m.adapter},
                        {"shape", {m.rows, m.cols}}, {"mean", m.mean}, {"std", m.std}, {"min", m.min}, {"max", m.max},
                        {"frobenius", m.frobenius}, {"histogram", {{"lo", m.hist_lo}, {"hi", m.hist_hi}, {"counts", m.histogram}}},
                        {"singular_values", m.singular_values}, {"spectrum_exact", m.exact},
                        {"spectrum_error", m.spectrum_error}, {"stable_rank", m.stable_rank},
                        {"effective_rank", m.exact ? nlohmann::json(m.effective_rank) : nlohmann::json(nullptr)},
                        {"tail_energy", m.tail_energy}});
    }
    return {{"tunebench_weight_analysis", 1}, {"matrices", list}};
}

std::string spectrum_svg(const std::vector<MatrixAnalysis>& ms, bool adapter) {
    std::vector<Series> series;
    for (const auto& m : ms) {
        if (m.adapter != adapter || m.singular_values.empty() || m.singular_values.front() <= 0) continue;
        Series s{m.kind, {}, {}};
        for (size_t i = 0; i < m.singular_values.size() && m.singular_values[i] > 0; ++i) {
            s.x.push_back(static_cast<double>(i + 1));
            s.y.push_back(std::log10(m.singular_values[i] / m.singular_values.front()));
        }
        series.push_back(std::move(s));
    }
    return line_chart_svg(adapter ? "adapter update ΔW: singular values" : "weights: singular values", "index i",
                          "log10(σᵢ / σ₁)", series, kinds_of(ms, adapter));
}

std::string rank_by_layer_svg(const std::vector<MatrixAnalysis>& ms, bool adapter) {
    bool all_exact = true;
    for (const auto& m : ms)
        if (m.adapter == adapter) all_exact = all_exact && m.exact;
    const auto kinds = kinds_of(ms, adapter);
    std::vector<Series> series;
    for (const auto& kind : kinds) {
        Series s{kind, {}, {}};
        for (const auto& m : ms)
            if (m.adapter == adapter && m.kind == kind && m.layer >= 0) {
                s.x.push_back(static_cast<double>(m.layer));
                s.y.push_back(all_exact ? m.effective_rank : m.stable_rank);
            }
        if (!s.x.empty()) series.push_back(std::move(s));
    }
    return line_chart_svg(std::string(adapter ? "adapter update ΔW" : "weights") + (all_exact ? ": effective rank" : ": stable rank"),
                          "layer", all_exact ? "exp(entropy of σ/Σσ)" : "‖W‖²_F / σ₁²", series, kinds);
}

void check_weight_analysis_folder(const std::filesystem::path& dir) {
    const auto json_path = dir / "weight_analysis.json";
    if (std::filesystem::exists(json_path)) {
        bool ours = false;
        try {
            ours = io::parse_json(io::read_file(json_path), json_path.string()).contains("tunebench_weight_analysis");
        } catch (const std::exception&) {
        }
        if (!ours)
            throw ConfigError(json_path.string() + " exists and was not written by a weight analysis",
                              "choose another output folder");
    }
}

void write_weight_analysis(const std::filesystem::path& dir, const std::vector<MatrixAnalysis>& ms) {
    check_weight_analysis_folder(dir);
    const auto json_path = dir / "weight_analysis.json";
    std::filesystem::create_directories(dir);
    io::write_text_atomically(json_path, weight_analysis_json(ms).dump(1) + "\n");
    io::write_text_atomically(dir / "spectrum.svg", spectrum_svg(ms, false));
    io::write_text_atomically(dir / "rank_by_layer.svg", rank_by_layer_svg(ms, false));
    if (std::any_of(ms.begin(), ms.end(), [](const MatrixAnalysis& m) { return m.adapter; })) {
        io::write_text_atomically(dir / "adapter_spectrum.svg", spectrum_svg(ms, true));
        io::write_text_atomically(dir / "adapter_rank_by_layer.svg", rank_by_layer_svg(ms, true));
    }
}

}  // namespace tb
