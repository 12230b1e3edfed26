#include "analyze_page.h"
#include "message_label.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineEdit>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>

#include "engine_controller.h"
#include "folder_field.h"
#include "model_bar.h"
#include "ui_texts.h"

namespace tb::ui {
namespace {

QChartView* chartView() {
    auto* view = new QChartView(new QChart);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(180);  // the window fits 1024 × 700; the splitter gives the charts more
    return view;
}

// One line per matrix kind gets one colour: the series of a kind share its name (one legend entry).
QLineSeries* lineFor(QChart* chart, const QString& kind, QHash<QString, QColor>& colours) {
    auto* s = new QLineSeries;
    s->setName(kind);
    chart->addSeries(s);
    if (colours.contains(kind)) {
        s->setColor(colours[kind]);
        for (auto* marker : chart->legend()->markers(s)) marker->setVisible(false);
    } else {
        colours[kind] = s->color();
    }
    return s;
}

}  // namespace

AnalyzePage::AnalyzePage(EngineController* engine, ModelBar* bar, QWidget* parent)
    : QWidget(parent), m_engine(engine), m_bar(bar), m_texts(new UiTexts(this)) {
    m_output = new QLineEdit;
    m_texts->set(m_output, "toolTip", QT_TR_NOOP("weight_analysis.json and the SVG plots are written here (an earlier analysis there is replaced)"));
    m_adapter = new QCheckBox;
    m_texts->set(m_adapter, "text", QT_TR_NOOP("also the adapter chosen in the top bar (its update ΔW = s·B·A)"));
    auto* box = new QGroupBox;
    m_texts->set(box, "title", QT_TR_NOOP("Weights: statistics, singular spectra and effective rank"));
    auto* form = new QFormLayout(box);
    form->addRow(m_texts->label(QT_TR_NOOP("Output folder")), folderField(m_output, this));
    form->addRow(m_texts->label(QT_TR_NOOP("Adapter")), m_adapter);
    m_start = m_texts->button(QT_TR_NOOP("Analyze"));
    m_which = new QComboBox;
    auto fillWhich = [this] {
        const int i = std::max(0, m_which->currentIndex());
        m_which->clear();
        m_which->addItems({tr("Base weights"), tr("Adapter update ΔW")});
        m_which->setCurrentIndex(i);
    };
    fillWhich();
    m_texts->onRetranslate(fillWhich);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_which);
    buttons->addStretch(1);
    buttons->addWidget(m_start);
    m_result = messageLabel();
    m_result->setWordWrap(true);

    m_spectrum = chartView();
    m_ranks = chartView();
    m_histogram = chartView();
    auto* charts = new QTabWidget;
    for (auto [view, title] : std::initializer_list<std::pair<QChartView*, const char*>>{
             {m_spectrum, QT_TR_NOOP("Singular values")}, {m_ranks, QT_TR_NOOP("Rank by layer")}, {m_histogram, QT_TR_NOOP("Histogram")}}) {
        const int i = charts->addTab(view, QString());
        m_texts->bind(title, [charts, i](const QString& t) { charts->setTabText(i, t); });
    }
    m_table = new QTableWidget(0, 7);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto headers = [this] {
        m_table->setHorizontalHeaderLabels(
            {tr("Matrix"), tr("Shape"), tr("Mean"), tr("Std"), tr("Effective rank"), tr("Stable rank"), tr("Spectrum")});
    };
    headers();
    m_texts->onRetranslate(headers);
    m_table->setMinimumHeight(80);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(charts);
    split->addWidget(m_table);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(box);
    layout->addLayout(buttons);
    layout->addWidget(m_result);
    layout->addWidget(split, 1);

    connect(m_start, &QPushButton::clicked, this, &AnalyzePage::start);
    connect(m_which, &QComboBox::currentIndexChanged, this, [this] { show(m_matrices); });
    connect(m_table, &QTableWidget::currentCellChanged, this, [this](int row) { showHistogram(row); });
    auto* w = m_engine->worker();
    connect(w, &EngineWorker::analyzeFinished, this, [this](const QString& json, const QString& dir) {
        if (!m_running) return;
        setRunning(false);
        m_matrices = QJsonDocument::fromJson(json.toUtf8()).object()["matrices"].toArray();
        bool adapter = false;
        for (const auto& m : m_matrices) adapter = adapter || m.toObject()["adapter_update"].toBool();
        m_which->setCurrentIndex(adapter ? 1 : 0);
        show(m_matrices);
        m_result->setText(tr("%1 matrices analysed.").arg(m_matrices.size()) +
                          (dir.isEmpty() ? QString() : tr(" Written to %1 (weight_analysis.json, spectrum.svg, rank_by_layer.svg).").arg(dir)));
        Q_EMIT analysisFinished(true);
    });
    connect(w, &EngineWorker::failed, this, [this](EngineJob job, const QString& message, const QString& hint) {
        if (job != EngineJob::Analyze || !m_running) return;
        setRunning(false);
        m_result->setText(tr("Error: %1").arg(message) + (hint.isEmpty() ? QString() : tr("\nHint: %1").arg(hint)));
        Q_EMIT analysisFinished(false);
    });
    setRunning(false);
}

void AnalyzePage::setOutputDir(const QString& dir) { m_output->setText(dir); }
void AnalyzePage::setIncludeAdapter(bool on) { m_adapter->setChecked(on); }
QString AnalyzePage::resultText() const { return m_result->text(); }
int AnalyzePage::spectrumSeries() const { return static_cast<int>(m_spectrum->chart()->series().size()); }
int AnalyzePage::rankSeries() const { return static_cast<int>(m_ranks->chart()->series().size()); }
int AnalyzePage::histogramBins() const {
    const auto series = m_histogram->chart()->series();
    if (series.isEmpty()) return 0;
    const auto sets = static_cast<QBarSeries*>(series.first())->barSets();
    return sets.isEmpty() ? 0 : static_cast<int>(sets.first()->count());
}

void AnalyzePage::start() {
    if (m_running) return;
    if (m_bar->modelDir().isEmpty()) {
        m_result->setText(tr("Choose a model in the top bar first."));
        return;
    }
    setRunning(true);
    m_result->setText(tr("Analysing %1 …").arg(m_bar->modelDir()));
    QVariantMap a{{"model_name_or_path", m_bar->modelDir()}, {"device", m_bar->device()}, {"output_dir", m_output->text()}};
    if (m_adapter->isChecked()) a["adapter_name_or_path"] = m_bar->adapterDir();
    m_engine->requestAnalyze(a);
}

void AnalyzePage::show(const QJsonArray& all) {
    const bool adapter = m_which->currentIndex() == 1;
    QJsonArray ms;
    for (const auto& m : all)
        if (m.toObject()["adapter_update"].toBool() == adapter) ms.append(m);
    // spectra: log10(σᵢ/σ₁) against i, a line per matrix, a colour per kind
    auto* chart = m_spectrum->chart();
    chart->removeAllSeries();
    for (auto* axis : chart->axes()) chart->removeAxis(axis);
    QHash<QString, QColor> colours;
    double longest = 1, smallest = 1;
    for (const auto& v : ms) {
        const auto m = v.toObject();
        const auto s = m["singular_values"].toArray();
        if (s.isEmpty() || s[0].toDouble() <= 0) continue;
        auto* line = lineFor(chart, m["kind"].toString(), colours);
        for (int i = 0; i < s.size() && s[i].toDouble() > 0; ++i) {
            const double ratio = s[i].toDouble() / s[0].toDouble();
            line->append(i + 1, ratio);
            smallest = std::min(smallest, std::max(ratio, 1e-12));  // a log axis needs its range set
        }
        longest = std::max<double>(longest, s.size());
    }
    auto* x = new QValueAxis;
    x->setRange(1, longest);
    x->setTitleText(tr("index i"));
    auto* y = new QLogValueAxis;
    y->setTitleText(tr("σᵢ / σ₁"));
    y->setRange(smallest * 0.8, 1.25);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (auto* s : chart->series()) {
        s->attachAxis(x);
        s->attachAxis(y);
    }
    chart->setTitle(adapter ? tr("Adapter update ΔW: singular values") : tr("Weights: singular values"));
    // effective rank (stable rank when a spectrum is randomized) by layer, a line per kind
    bool exact = true;
    for (const auto& v : ms) exact = exact && v.toObject()["spectrum_exact"].toBool();
    auto* ranks = m_ranks->chart();
    ranks->removeAllSeries();
    for (auto* axis : ranks->axes()) ranks->removeAxis(axis);
    QHash<QString, QLineSeries*> byKind;
    for (const auto& v : ms) {
        const auto m = v.toObject();
        if (m["layer"].toInt() < 0) continue;
        const QString kind = m["kind"].toString();
        if (!byKind.contains(kind)) {
            byKind[kind] = new QLineSeries;
            byKind[kind]->setName(kind);
            ranks->addSeries(byKind[kind]);
        }
        byKind[kind]->append(m["layer"].toInt(), m[exact ? "effective_rank" : "stable_rank"].toDouble());
    }
    ranks->createDefaultAxes();
    ranks->setTitle(exact ? tr("Effective rank exp(H(σ/Σσ)) by layer") : tr("Stable rank ‖W‖²/σ₁² by layer (randomized spectra)"));
    // the table; the histogram follows the selected row
    m_table->setRowCount(static_cast<int>(ms.size()));
    for (int r = 0; r < ms.size(); ++r) {
        const auto m = ms[r].toObject();
        const auto shape = m["shape"].toArray();
        const QStringList cells{m["name"].toString(),
                                QStringLiteral("%1 × %2").arg(shape[0].toInt()).arg(shape[1].toInt()),
                                QString::number(m["mean"].toDouble(), 'g', 4),
                                QString::number(m["std"].toDouble(), 'g', 4),
                                m["effective_rank"].isNull() ? QStringLiteral("—") : QString::number(m["effective_rank"].toDouble(), 'f', 1),
                                QString::number(m["stable_rank"].toDouble(), 'f', 2),
                                m["spectrum_exact"].toBool() ? tr("exact")
                                                             : tr("top %1, ± %2").arg(m["singular_values"].toArray().size())
                                                                   .arg(m["spectrum_error"].toDouble(), 0, 'g', 3)};
        for (int c = 0; c < cells.size(); ++c) m_table->setItem(r, c, new QTableWidgetItem(cells[c]));
    }
    m_table->resizeColumnsToContents();
    if (!ms.isEmpty()) m_table->setCurrentCell(0, 0);
    showHistogram(ms.isEmpty() ? -1 : 0);
}

void AnalyzePage::showHistogram(int row) {
    auto* chart = m_histogram->chart();
    chart->removeAllSeries();
    for (auto* axis : chart->axes()) chart->removeAxis(axis);
    if (row < 0 || row >= m_table->rowCount()) return;
    const QString name = m_table->item(row, 0)->text();
    const bool adapter = m_which->currentIndex() == 1;
    for (const auto& v : m_matrices) {
        const auto m = v.toObject();
        if (m["name"].toString() != name || m["adapter_update"].toBool() != adapter) continue;
        const auto h = m["histogram"].toObject();
        const auto counts = h["counts"].toArray();
        auto* set = new QBarSet(name);
        QStringList labels;
        const double lo = h["lo"].toDouble(), width = (h["hi"].toDouble() - lo) / std::max<int>(1, counts.size());
        for (int i = 0; i < counts.size(); ++i) {
            *set << counts[i].toDouble();
            labels << QString::number(lo + (i + 0.5) * width, 'g', 2);
        }
        auto* series = new QBarSeries;
        series->setBarWidth(1.0);
        series->append(set);
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(labels);
        auto* y = new QValueAxis;
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        double top = 0;
        for (int i = 0; i < set->count(); ++i) top = std::max(top, set->at(i));
        y->setRange(0, top * 1.05 + 1);
        chart->legend()->hide();
        chart->setTitle(tr("%1: values").arg(name));
        return;
    }
}

void AnalyzePage::setRunning(bool running) {
    m_running = running;
    m_start->setEnabled(!running);
}

}  // namespace tb::ui
